package stix

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"focal/internal/focal"
)

// Mapping between focal and STIX. The decisions, in one place:
//
//   - Identifiers of the objects focal builds are derived from their
//     content (UUIDv5 in Namespace over the JCS form of the creator, the
//     created time and the defining properties), so that exporting the
//     same thing twice gives identical objects rather than duplicates, and
//     two objects with one identifier never differ in created.
//   - TLP: objects carry the TLP 2.0 marking definition of the focal label
//     in object_marking_refs; an unlabelled focal object is AMBER. Reading,
//     the strictest TLP marking wins and no TLP marking means AMBER (fail
//     closed). WithMarkings adds the marking-definition objects a bundle
//     should carry.
//   - Classification: focal writes the RSIT class and type both as the
//     custom properties x_focal_class and x_focal_type and as the label
//     rsit:class="type" (the MISP machine tag, which other tools read).
//     Reading, Classify decides.
//   - Endpoints: observed-data lists the source's and the destination's
//     observables in object_refs and, to keep their roles, in the custom
//     properties x_focal_source_refs and x_focal_destination_refs.
//     Reading objects without them, addresses and AS numbers go to the
//     destination for what victims connect to (c2-server,
//     malware-distribution, malware-configuration, phishing) and to the
//     source otherwise; domains and URLs always go to the destination;
//     e-mail addresses to the source as a mailto: URL with the domain as
//     FQDN (the rules of package feed/stixfeed).
//   - Ports, countries, protocols, the raw line and the feed's own
//     identifier are not exported.

// IdentityFor returns the identity SDO of a focal point (an organisation):
// name, identity_class "organization" and contact_information. Its
// identifier is "identity--" and the UUIDv5 of name in Namespace, so the
// same name always gives the same identity. created and modified are the
// fixed time 2020-01-01T00:00:00.000Z; a caller publishing changed details
// (a new contact) sets Modified to when they changed, which makes the
// object a new version of the same identity.
func IdentityFor(name, contact string) Identity {
	epoch := Timestamp{time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	return Identity{
		Common: Common{
			Type: "identity", SpecVersion: SpecVersion,
			ID:      NameID("identity", []byte(name)),
			Created: epoch, Modified: epoch,
		},
		Name:               name,
		IdentityClass:      "organization",
		ContactInformation: contact,
	}
}

// checkCreator checks the identity identifier given as creator ("" is
// allowed: no created_by_ref).
func checkCreator(creator string) error {
	if creator == "" {
		return nil
	}
	if err := CheckID(creator, "identity"); err != nil {
		return focal.FieldErrorf("creator", "%v", err)
	}
	return nil
}

// markingRefs returns object_marking_refs for a focal label.
func markingRefs(t focal.TLP) ([]string, error) {
	id, ok := MarkingRef(t)
	if !ok {
		return nil, focal.FieldErrorf("tlp", "unknown TLP label %q", t)
	}
	return []string{id}, nil
}

// contentID derives an identifier from the JCS form of props.
func contentID(typ string, props map[string]any) (string, error) {
	props["type"] = typ
	b, err := Canonical(props)
	if err != nil {
		return "", focal.Wrap(focal.EINVALID, err, "cannot derive an identifier: invalid text")
	}
	return NameID(typ, b), nil
}

// IndicatorFromObservable returns the indicator for a focal observable:
// the pattern of PatternFor (pattern_type "stix", pattern_version "2.1"),
// name "<kind> <value>", indicator_types ["unknown"] (an observable of an
// incident may be the attacker's or the victim's), the observable's TLP
// marking, and created_by_ref creator (an identity identifier, or "").
// created and valid_from are the observable's CreatedAt (now if it is zero
// or later than now) and modified is now; both are truncated to the
// millisecond. The identifier depends on creator, created and the pattern,
// so later exports of one observable are versions of one indicator.
func IndicatorFromObservable(o focal.Observable, creator string, now time.Time) (Indicator, error) {
	if err := checkCreator(creator); err != nil {
		return Indicator{}, err
	}
	pattern, err := PatternFor(o.Kind, o.Value)
	if err != nil {
		return Indicator{}, err
	}
	refs, err := markingRefs(o.TLP)
	if err != nil {
		return Indicator{}, err
	}
	modified := NewTimestamp(now)
	created := NewTimestamp(o.CreatedAt)
	if created.IsZero() || created.After(modified.Time) {
		created = modified
	}
	if created.IsZero() {
		return Indicator{}, focal.FieldErrorf("now", "required")
	}
	id, err := contentID("indicator", map[string]any{"created_by_ref": creator, "created": created.String(), "pattern": pattern})
	if err != nil {
		return Indicator{}, err
	}
	return Indicator{
		Common: Common{
			Type: "indicator", SpecVersion: SpecVersion, ID: id,
			CreatedByRef: creator, Created: created, Modified: modified,
			ObjectMarkingRefs: refs,
		},
		Name:           o.Kind + " " + o.Value,
		IndicatorTypes: []string{"unknown"},
		Pattern:        pattern,
		PatternType:    "stix",
		PatternVersion: SpecVersion,
		ValidFrom:      created,
	}, nil
}

// endpointSCOs returns the cyber-observables of an endpoint: its address,
// host name, URL and AS number.
func endpointSCOs(ep focal.Endpoint, refs []string) ([]any, error) {
	var out []any
	if ep.IP.IsValid() {
		a := ep.IP.Unmap()
		if a.Is4() {
			s := NewIPv4Addr(a.String())
			s.ObjectMarkingRefs = refs
			out = append(out, s)
		} else {
			s := NewIPv6Addr(a.WithZone("").String())
			s.ObjectMarkingRefs = refs
			out = append(out, s)
		}
	}
	if ep.FQDN != "" {
		s := NewDomainName(strings.TrimSuffix(strings.ToLower(ep.FQDN), "."))
		s.ObjectMarkingRefs = refs
		out = append(out, s)
	}
	if ep.URL != "" {
		if !utf8.ValidString(ep.URL) {
			return nil, focal.FieldErrorf("url", "invalid UTF-8")
		}
		s := NewURL(ep.URL)
		s.ObjectMarkingRefs = refs
		out = append(out, s)
	}
	if ep.ASN != 0 {
		s := NewAutonomousSystem(ep.ASN)
		s.ObjectMarkingRefs = refs
		out = append(out, s)
	}
	return out, nil
}

// scoID returns the identifier of a typed cyber-observable.
func scoID(v any) string {
	switch s := v.(type) {
	case IPv4Addr:
		return s.ID
	case IPv6Addr:
		return s.ID
	case DomainName:
		return s.ID
	case URL:
		return s.ID
	case AutonomousSystem:
		return s.ID
	}
	return ""
}

// iocPattern returns the pattern matching an endpoint: one observation
// per address, host name and URL, joined by OR ("" if it has none).
func iocPattern(ep focal.Endpoint) string {
	var root ObservationExpr
	add := func(typ, value string) {
		var o ObservationExpr = &Observation{Expr: &Comparison{
			Path: ObjectPath{Type: typ, Steps: []PathStep{{Kind: StepKey, Key: "value"}}},
			Op:   "=", Value: StringLiteral(value),
		}}
		if root != nil {
			o = &ObservationOp{Op: "OR", Left: root, Right: o}
		}
		root = o
	}
	if ep.IP.IsValid() {
		a := ep.IP.Unmap().WithZone("")
		if a.Is4() {
			add("ipv4-addr", a.String())
		} else {
			add("ipv6-addr", a.String())
		}
	}
	if ep.FQDN != "" {
		add("domain-name", strings.TrimSuffix(strings.ToLower(ep.FQDN), "."))
	}
	if ep.URL != "" {
		add("url", ep.URL)
	}
	if root == nil {
		return ""
	}
	return (&Pattern{Root: root}).String()
}

// FromEvent returns the STIX objects for a focal event: a
// cyber-observable for each address (ipv4-addr, ipv6-addr), host name
// (domain-name), URL (url) and AS number (autonomous-system) of its source
// and destination; an observed-data holding them, with first_observed and
// last_observed from FirstSeen and LastSeen (SourceTime when unset),
// number_observed from Count (at least 1), confidence when set, the RSIT
// label and the custom properties x_focal_class, x_focal_type, x_focal_feed
// and x_focal_malware (when set); and, when the event names an indicator of
// compromise, an indicator whose pattern matches it (see iocRole: the
// destination of c2-server, malware-distribution, malware-configuration
// and phishing events, or the source when there is no destination; the
// C2 an infected system talks to, as a c2-server indicator; the source of
// scanner, intrusion attempt, spam and denial-of-service events).
// Every object carries the event's TLP marking (AMBER when unlabelled) and
// created_by_ref creator. created and modified are the event's
// ObservedTime (else SourceTime, LastSeen or FirstSeen).
//
// The event should have passed (*focal.Event).Validate. The error is a
// *focal.Error (EINVALID).
func FromEvent(e focal.Event, creator string) ([]Object, error) {
	if err := checkCreator(creator); err != nil {
		return nil, err
	}
	refs, err := markingRefs(e.TLP)
	if err != nil {
		return nil, err
	}
	var t0 time.Time
	for _, t := range []time.Time{e.ObservedTime, e.SourceTime, e.LastSeen, e.FirstSeen} {
		if !t.IsZero() {
			t0 = t
			break
		}
	}
	if t0.IsZero() {
		return nil, focal.FieldErrorf("observed_time", "the event has no time")
	}
	created := NewTimestamp(t0)
	first := NewTimestamp(e.FirstSeen)
	if first.IsZero() {
		first = NewTimestamp(e.SourceTime)
	}
	if first.IsZero() {
		first = created
	}
	last := NewTimestamp(e.LastSeen)
	if last.IsZero() || last.Before(first.Time) {
		last = first
	}
	count := min(max(e.Count, 1), 999_999_999)

	var objs []Object
	var srcRefs, dstRefs, allRefs []string
	for _, side := range []struct {
		ep   focal.Endpoint
		refs *[]string
	}{{e.Source, &srcRefs}, {e.Destination, &dstRefs}} {
		scos, err := endpointSCOs(side.ep, refs)
		if err != nil {
			return nil, err
		}
		for _, s := range scos {
			id := scoID(s)
			*side.refs = append(*side.refs, id)
			if slices.Contains(allRefs, id) {
				continue
			}
			allRefs = append(allRefs, id)
			o, err := NewObject(s)
			if err != nil {
				return nil, focal.Wrap(focal.EINVALID, err, "cannot encode an observable")
			}
			objs = append(objs, o)
		}
	}
	if len(allRefs) == 0 {
		return nil, focal.FieldErrorf("source", "the event has no address, host name, URL or AS number")
	}

	custom := func(c *Common, class, typ string) error {
		for _, kv := range [][2]string{{"x_focal_class", class}, {"x_focal_type", typ}, {"x_focal_feed", e.Feed}, {"x_focal_malware", e.Malware}} {
			if kv[1] == "" {
				continue
			}
			if err := c.SetCustom(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	}
	var confidence *int
	if e.Confidence > 0 && e.Confidence <= 100 {
		confidence = &e.Confidence
	}
	od := ObservedData{
		Common: Common{
			Type: "observed-data", SpecVersion: SpecVersion,
			CreatedByRef: creator, Created: created, Modified: created,
			Confidence: confidence, ObjectMarkingRefs: refs,
		},
		FirstObserved: first, LastObserved: last, NumberObserved: count, ObjectRefs: allRefs,
	}
	if e.Class != "" && e.Type != "" {
		od.Labels = []string{rsitLabel(e.Class, e.Type)}
	}
	if err := custom(&od.Common, e.Class, e.Type); err != nil {
		return nil, focal.Wrap(focal.EINVALID, err, "cannot set custom properties")
	}
	if len(srcRefs) > 0 {
		if err := od.SetCustom("x_focal_source_refs", srcRefs); err != nil {
			return nil, focal.Wrap(focal.EINVALID, err, "cannot set custom properties")
		}
	}
	if len(dstRefs) > 0 {
		if err := od.SetCustom("x_focal_destination_refs", dstRefs); err != nil {
			return nil, focal.Wrap(focal.EINVALID, err, "cannot set custom properties")
		}
	}
	od.ID, err = contentID("observed-data", map[string]any{
		"created_by_ref": creator, "created": created.String(),
		"first_observed": first.String(), "last_observed": last.String(),
		"number_observed": count, "object_refs": allRefs,
		"x_focal_source_refs": srcRefs, "x_focal_destination_refs": dstRefs,
		"x_focal_class": e.Class, "x_focal_type": e.Type, "x_focal_feed": e.Feed, "x_focal_dedup_key": e.DedupKey,
	})
	if err != nil {
		return nil, err
	}
	o, err := NewObject(od)
	if err != nil {
		return nil, focal.Wrap(focal.EINVALID, err, "cannot encode observed-data")
	}
	objs = append(objs, o)

	useDst, class, typ, indType, ok := iocRole(e.Class, e.Type)
	if !ok {
		return objs, nil
	}
	ep := e.Source
	if useDst {
		ep = e.Destination
		if ep.IsZero() && serverType(e.Type) {
			ep = e.Source
		}
	}
	pattern := iocPattern(ep)
	if pattern == "" {
		return objs, nil
	}
	ind := Indicator{
		Common: Common{
			Type: "indicator", SpecVersion: SpecVersion,
			CreatedByRef: creator, Created: created, Modified: created,
			Confidence: confidence, ObjectMarkingRefs: refs,
			Labels: []string{rsitLabel(class, typ)},
		},
		Name:           fmt.Sprintf("%s/%s", class, typ),
		IndicatorTypes: []string{indType},
		Pattern:        pattern, PatternType: "stix", PatternVersion: SpecVersion,
		ValidFrom: first,
	}
	if e.Malware != "" {
		ind.Name += " " + e.Malware
	}
	if err := custom(&ind.Common, class, typ); err != nil {
		return nil, focal.Wrap(focal.EINVALID, err, "cannot set custom properties")
	}
	ind.ID, err = contentID("indicator", map[string]any{
		"created_by_ref": creator, "created": created.String(), "pattern": pattern,
		"x_focal_class": class, "x_focal_type": typ, "x_focal_feed": e.Feed,
	})
	if err != nil {
		return nil, err
	}
	io, err := NewObject(ind)
	if err != nil {
		return nil, focal.Wrap(focal.EINVALID, err, "cannot encode indicator")
	}
	return append(objs, io), nil
}

// WithMarkings returns objs followed by the TLP 2.0 marking-definition
// objects they reference and that objs does not already hold, in TLP
// order, as a bundle should carry them.
func WithMarkings(objs []Object) []Object {
	have := map[string]bool{}
	used := map[string]bool{}
	for _, o := range objs {
		have[o.ID] = true
		for _, r := range o.ObjectMarkingRefs {
			used[r] = true
		}
	}
	out := slices.Clone(objs)
	for _, t := range focal.TLPs {
		id, _ := MarkingRef(t)
		if used[id] && !have[id] {
			m, _ := MarkingFor(t)
			out = append(out, MustObject(m))
		}
	}
	return out
}

// ReportFromIncident returns the STIX objects sharing a focal incident: an
// incident SDO (name the title, description, the RSIT labels of its
// classifications, an external reference {source_name "focal",
// external_id Ref} and the custom properties x_focal_ref, x_focal_severity,
// x_focal_status and x_focal_pap), an indicator per observable (see
// IndicatorFromObservable; an unlabelled observable takes the incident's
// TLP), and a report (report_types ["threat-report"], name "Ref: Title",
// published when the incident was reported) whose object_refs are the
// incident and the indicators. The reporter and the organisation are not
// exported. The incident and report carry the incident's TLP marking,
// created is CreatedAt and modified UpdatedAt; their identifiers derive
// from creator and the incident's Ref (else ID), so re-exports are new
// versions of the same objects. The report comes first.
func ReportFromIncident(inc focal.Incident, observables []focal.Observable, creator string) ([]Object, error) {
	if err := checkCreator(creator); err != nil {
		return nil, err
	}
	refs, err := markingRefs(inc.TLP)
	if err != nil {
		return nil, err
	}
	created := NewTimestamp(inc.CreatedAt)
	if created.IsZero() {
		created = NewTimestamp(inc.Milestones.Reported)
	}
	if created.IsZero() {
		return nil, focal.FieldErrorf("created_at", "required")
	}
	modified := NewTimestamp(inc.UpdatedAt)
	if modified.Before(created.Time) {
		modified = created
	}
	published := NewTimestamp(inc.Milestones.Reported)
	if published.IsZero() {
		published = created
	}
	ref := inc.Ref
	if ref == "" {
		ref = strconv.FormatInt(inc.ID, 10)
	}
	name := inc.Title
	if inc.Ref != "" {
		name = inc.Ref + ": " + inc.Title
	}
	if strings.TrimSpace(name) == "" {
		return nil, focal.FieldErrorf("title", "required")
	}
	common := func(typ string) (Common, error) {
		id, err := contentID(typ, map[string]any{"created_by_ref": creator, "x_focal_ref": ref})
		return Common{
			Type: typ, SpecVersion: SpecVersion, ID: id,
			CreatedByRef: creator, Created: created, Modified: modified,
			ObjectMarkingRefs: refs,
		}, err
	}
	ic, err := common("incident")
	if err != nil {
		return nil, err
	}
	for _, c := range inc.Classifications {
		if c.Type != "" {
			ic.Labels = append(ic.Labels, rsitLabel(c.Class, c.Type))
		} else {
			ic.Labels = append(ic.Labels, "rsit:"+c.Class)
		}
	}
	if inc.Ref != "" {
		ic.ExternalReferences = []ExternalReference{{SourceName: "focal", ExternalID: inc.Ref}}
	}
	for _, kv := range [][2]string{{"x_focal_ref", ref}, {"x_focal_severity", string(inc.Severity)}, {"x_focal_status", string(inc.Status)}, {"x_focal_pap", string(inc.PAP)}} {
		if kv[1] != "" {
			if err := ic.SetCustom(kv[0], kv[1]); err != nil {
				return nil, focal.Wrap(focal.EINVALID, err, "cannot set custom properties")
			}
		}
	}
	incident := Incident{Common: ic, Name: inc.Title, Description: inc.Description}
	if strings.TrimSpace(incident.Name) == "" {
		incident.Name = name
	}
	incObj, err := NewObject(incident)
	if err != nil {
		return nil, focal.Wrap(focal.EINVALID, err, "cannot encode the incident")
	}

	rc, err := common("report")
	if err != nil {
		return nil, err
	}
	report := Report{Common: rc, Name: name, ReportTypes: []string{"threat-report"}, Published: published, ObjectRefs: []string{incObj.ID}}
	var inds []Object
	seen := map[string]bool{}
	for i, o := range observables {
		if o.TLP == "" {
			o.TLP = inc.TLP
		}
		ind, err := IndicatorFromObservable(o, creator, modified.Time)
		if err != nil {
			return nil, focal.FieldErrorf(fmt.Sprintf("observables[%d]", i), "%s", focal.ErrorMessage(err))
		}
		if seen[ind.ID] {
			continue
		}
		seen[ind.ID] = true
		io, err := NewObject(ind)
		if err != nil {
			return nil, focal.Wrap(focal.EINVALID, err, "cannot encode an indicator")
		}
		report.ObjectRefs = append(report.ObjectRefs, ind.ID)
		inds = append(inds, io)
	}
	repObj, err := NewObject(report)
	if err != nil {
		return nil, focal.Wrap(focal.EINVALID, err, "cannot encode the report")
	}
	return append([]Object{repObj, incObj}, inds...), nil
}

// Imported is what ToEvents makes of one STIX object: the events, and what
// it could not use, one line each.
type Imported struct {
	Events  []focal.Event
	Ignored []string
}

// ToEvents turns an indicator or an observed-data object into focal events
// for the pipeline, resolving references through refs (see Index; it may
// be nil for an indicator). feed names the feed ("" means "taxii"). Every
// event returned has passed (*focal.Event).Validate; what could not become
// an event is described in Imported.Ignored, as are revoked objects,
// indicators whose pattern_type is not "stix" and indicators of benign
// activity.
//
// From an indicator: one event per observable PatternObservables finds
// (addresses, CIDR prefixes, domains, URLs, e-mail addresses and AS
// numbers; file hashes and names cannot be events), SourceTime, FirstSeen
// and LastSeen valid_from, Count 1. From an observed-data: first_observed
// and last_observed become SourceTime and FirstSeen, and LastSeen,
// number_observed Count, and the referenced ipv4-addr, ipv6-addr,
// domain-name, url, email-addr and autonomous-system objects the
// endpoints: one event with source and destination when the object says
// which is which (x_focal_source_refs, x_focal_destination_refs), else one
// event per observable.
//
// For both: Class and Type from Classify; TLP the strictest TLP marking,
// AMBER without one; Confidence from confidence; Malware from
// x_focal_malware; Provider the name of the created_by_ref identity when
// refs has it; Identifier the object's id (for a CIDR prefix,
// "cidr:<prefix>", the prefix's address being the endpoint's IP); DedupKey
// feed|value|class/type; Raw the object's JSON when it fits MaxRawLine.
// The STIX 2.0 embedded "objects" of observed-data are not read.
// valid_until is not checked: the caller knows the time and drops expired
// indicators. The error is a *focal.Error (EINVALID) for other object types
// and objects that do not decode or whose pattern does not parse.
func ToEvents(obj Object, refs map[string]Object, feed string) (Imported, error) {
	if feed == "" {
		feed = "taxii"
	}
	var res Imported
	if obj.Revoked {
		res.Ignored = append(res.Ignored, obj.ID+": revoked")
		return res, nil
	}
	base := focal.Event{Feed: feed, Identifier: obj.ID, Count: 1, TLP: focal.TLPAmber}
	if t, ok := TLPOf(obj.Common); ok {
		base.TLP = t
	}
	if obj.Confidence != nil && *obj.Confidence >= 0 && *obj.Confidence <= 100 {
		base.Confidence = *obj.Confidence
	}
	base.Malware, _ = obj.CustomString("x_focal_malware")
	if id, ok := refs[obj.CreatedByRef]; ok && obj.CreatedByRef != "" {
		var who Identity
		if id.As(&who) == nil {
			base.Provider = who.Name
		}
	}
	if len(obj.raw) <= focal.MaxRawLine {
		base.Raw = string(obj.raw)
	}
	switch obj.Type {
	case "indicator":
		var ind Indicator
		if err := obj.As(&ind); err != nil {
			return Imported{}, err
		}
		if ind.PatternType != "stix" {
			res.Ignored = append(res.Ignored, fmt.Sprintf("%s: pattern_type %s is not stix", obj.ID, quoteShort(ind.PatternType)))
			return res, nil
		}
		p, err := ParsePattern(ind.Pattern)
		if err != nil {
			return Imported{}, invalidf(where(obj.Common), "%v", err)
		}
		class, typ, benign := Classify(obj.Common, ind.IndicatorTypes)
		if benign {
			res.Ignored = append(res.Ignored, obj.ID+": an indicator of benign activity")
			return res, nil
		}
		base.Class, base.Type = class, typ
		base.SourceTime, base.FirstSeen, base.LastSeen = ind.ValidFrom.Time, ind.ValidFrom.Time, ind.ValidFrom.Time
		obs, ignored := PatternObservables(p)
		for _, s := range ignored {
			res.Ignored = append(res.Ignored, obj.ID+": "+s)
		}
		for _, o := range obs {
			e := base
			if reason := placeObservable(&e, o.Kind, o.Value, nil); reason != "" {
				res.Ignored = append(res.Ignored, fmt.Sprintf("%s: %s %s: %s", obj.ID, o.Kind, o.Value, reason))
				continue
			}
			res.add(e, obj.ID)
		}
		return res, nil
	case "observed-data":
		var od ObservedData
		if err := obj.As(&od); err != nil {
			return Imported{}, err
		}
		base.Class, base.Type, _ = Classify(obj.Common, nil)
		base.SourceTime, base.FirstSeen, base.LastSeen = od.FirstObserved.Time, od.FirstObserved.Time, od.LastObserved.Time
		base.Count = max(od.NumberObserved, 1)
		roles := map[string]*focal.Endpoint{}
		combined := base
		for _, r := range []struct {
			prop string
			ep   *focal.Endpoint
		}{{"x_focal_source_refs", &combined.Source}, {"x_focal_destination_refs", &combined.Destination}} {
			var ids []string
			if raw, ok := od.Custom[r.prop]; !ok || json.Unmarshal(raw, &ids) != nil {
				continue
			}
			for _, id := range ids {
				roles[id] = r.ep
			}
		}
		for _, id := range od.ObjectRefs {
			sco, ok := refs[id]
			if !ok {
				res.Ignored = append(res.Ignored, fmt.Sprintf("%s: object_refs: %s is not in the bundle", obj.ID, shortRef(id)))
				continue
			}
			kind, value, reason := scoObservable(sco)
			if reason != "" {
				res.Ignored = append(res.Ignored, fmt.Sprintf("%s: %s: %s", obj.ID, shortRef(id), reason))
				continue
			}
			if ep, ok := roles[id]; ok {
				if reason := placeObservable(&combined, kind, value, ep); reason != "" {
					res.Ignored = append(res.Ignored, fmt.Sprintf("%s: %s %s: %s", obj.ID, kind, value, reason))
				}
				continue
			}
			e := base
			if reason := placeObservable(&e, kind, value, nil); reason != "" {
				res.Ignored = append(res.Ignored, fmt.Sprintf("%s: %s %s: %s", obj.ID, kind, value, reason))
				continue
			}
			res.add(e, obj.ID)
		}
		if !combined.Source.IsZero() || !combined.Destination.IsZero() {
			combined.DedupKey = dedupKey(combined)
			res.add(combined, obj.ID)
		}
		return res, nil
	}
	return Imported{}, invalidf(where(obj.Common), "type: cannot make events from a %s object", quoteShort(obj.Type))
}

// add validates an event and keeps it, or notes why not.
func (r *Imported) add(e focal.Event, id string) {
	if err := e.Validate(); err != nil {
		r.Ignored = append(r.Ignored, fmt.Sprintf("%s: %s", id, focal.ErrorMessage(err)))
		return
	}
	r.Events = append(r.Events, e)
}

// dedupKey is feed|value|class/type for the first value of the event's
// destination, else its source.
func dedupKey(e focal.Event) string {
	v := ""
	for _, ep := range []focal.Endpoint{e.Destination, e.Source} {
		switch {
		case ep.URL != "":
			v = ep.URL
		case ep.FQDN != "":
			v = ep.FQDN
		case ep.IP.IsValid():
			v = ep.IP.String()
		case ep.ASN != 0:
			v = "AS" + strconv.FormatUint(uint64(ep.ASN), 10)
		}
		if v != "" {
			break
		}
	}
	return e.Feed + "|" + v + "|" + e.Class + "/" + e.Type
}

// scoObservable reads the kind and value of a cyber-observable focal can
// place in an event.
func scoObservable(o Object) (kind, value, reason string) {
	switch o.Type {
	case "ipv4-addr", "ipv6-addr":
		var a IPv4Addr // same shape as IPv6Addr
		if err := json.Unmarshal(o.raw, &a); err != nil {
			return "", "", "does not decode"
		}
		obs, why := addressObservable(a.Value, o.Type)
		return obs.Kind, obs.Value, why
	case "domain-name", "url", "email-addr":
		var v struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(o.raw, &v); err != nil {
			return "", "", "does not decode"
		}
		k := map[string]string{"domain-name": "domain", "url": "url", "email-addr": "email"}[o.Type]
		return k, v.Value, ""
	case "autonomous-system":
		var a AutonomousSystem
		if err := o.As(&a); err != nil {
			return "", "", "does not decode"
		}
		return "asn", "AS" + strconv.FormatUint(uint64(a.Number), 10), ""
	}
	return "", "", fmt.Sprintf("a %s object cannot be part of a focal event", quoteShort(o.Type))
}

// placeObservable puts an observable into an event, into ep if given,
// else where its kind and the event's classification say. It returns why
// it cannot.
func placeObservable(e *focal.Event, kind, value string, ep *focal.Endpoint) string {
	server := serverType(e.Type)
	pick := func(dst bool) *focal.Endpoint {
		if ep != nil {
			return ep
		}
		if dst {
			return &e.Destination
		}
		return &e.Source
	}
	switch kind {
	case "ipv4", "ipv6", "cidr":
		var a netip.Addr
		if kind == "cidr" {
			p, err := netip.ParsePrefix(value)
			if err != nil {
				return "not a CIDR prefix"
			}
			a = p.Addr()
			e.Identifier = "cidr:" + p.Masked().String()
		} else {
			var err error
			if a, err = netip.ParseAddr(value); err != nil {
				return "not an address"
			}
		}
		pick(server).IP = a.Unmap()
	case "domain":
		pick(true).FQDN = strings.TrimSuffix(strings.ToLower(value), ".")
	case "url":
		pick(true).URL = value
	case "email":
		local, domain, ok := strings.Cut(value, "@")
		if !ok {
			return "not an e-mail address"
		}
		t := pick(false)
		t.URL = "mailto:" + local + "@" + strings.ToLower(domain)
		t.FQDN = strings.TrimSuffix(strings.ToLower(domain), ".")
	case "asn":
		n, err := focal.ParseASN(value)
		if err != nil {
			return "not an AS number"
		}
		pick(server).ASN = n
	default:
		return "focal events carry no " + kind + " observables"
	}
	if ep == nil {
		key := value
		if kind == "email" {
			key = "mailto:" + value
		}
		e.DedupKey = e.Feed + "|" + key + "|" + e.Class + "/" + e.Type
	}
	return ""
}
