package restapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// maxAlertWindowS bounds an alert rule's window in the API (the domain
// checks it too).
const maxAlertWindowS = 90 * 24 * 3600

// alertRuleBody is an alert rule as the API reads and writes it; empty
// org_id, sector, class, type and feed match any. On input id and created
// are ignored.
type alertRuleBody struct {
	ID        int64      `json:"id,omitempty"`
	Name      string     `json:"name"`
	OrgID     int64      `json:"org_id,omitempty"`
	Sector    string     `json:"sector,omitempty"`
	Class     string     `json:"class,omitempty"`
	Type      string     `json:"type,omitempty"`
	Feed      string     `json:"feed,omitempty"`
	Threshold int        `json:"threshold"`
	WindowS   int64      `json:"window_s"`
	Severity  string     `json:"severity,omitempty"`
	Enabled   *bool      `json:"enabled,omitempty"`
	Created   *time.Time `json:"created,omitempty"`
}

func alertRuleToBody(r *focal.AlertRule) alertRuleBody {
	return alertRuleBody{ID: r.ID, Name: r.Name, OrgID: r.OrgID, Sector: r.Sector, Class: r.Class, Type: r.Type, Feed: r.Feed,
		Threshold: r.Threshold, WindowS: int64(r.Window / time.Second), Severity: string(r.Severity), Enabled: &r.Enabled, Created: &r.Created}
}

// toAlertRule checks what the domain cannot (that the organisation,
// sector and feed exist) and converts the body.
func (a *API) toAlertRule(ctx context.Context, b alertRuleBody) (*focal.AlertRule, error) {
	r := &focal.AlertRule{Name: b.Name, OrgID: b.OrgID, Sector: strings.TrimSpace(b.Sector), Class: strings.ToLower(strings.TrimSpace(b.Class)),
		Type: strings.ToLower(strings.TrimSpace(b.Type)), Feed: strings.TrimSpace(b.Feed), Threshold: b.Threshold, Enabled: true}
	if b.Enabled != nil {
		r.Enabled = *b.Enabled
	}
	if b.Threshold < 0 {
		return nil, focal.FieldErrorf("threshold", "want 1 or more, got %d", b.Threshold)
	}
	if b.WindowS < 0 || b.WindowS > maxAlertWindowS {
		return nil, focal.FieldErrorf("window_s", "want a number of seconds up to 90 days, got %d", b.WindowS)
	}
	r.Window = time.Duration(b.WindowS) * time.Second
	if b.Severity != "" {
		s, err := focal.ParseSeverity(b.Severity)
		if err != nil {
			return nil, err
		}
		r.Severity = s
	}
	if err := checkClassType(r.Class, r.Type); err != nil {
		return nil, err
	}
	if r.Sector != "" {
		if _, ok := focal.LookupSector(r.Sector); !ok {
			return nil, focal.FieldErrorf("sector", "unknown sector %q", r.Sector)
		}
	}
	if r.OrgID < 0 {
		return nil, focal.FieldErrorf("org_id", "want an organisation id, got %d", r.OrgID)
	}
	if r.OrgID > 0 {
		if _, err := a.Store.Organisation(ctx, r.OrgID); focal.ErrorCode(err) == focal.ENOTFOUND {
			return nil, focal.FieldErrorf("org_id", "no organisation %d", r.OrgID)
		} else if err != nil {
			return nil, err
		}
	}
	if r.Feed != "" {
		if _, err := a.Store.FeedByName(ctx, r.Feed); focal.ErrorCode(err) == focal.ENOTFOUND {
			return nil, focal.FieldErrorf("feed", "no feed named %q", r.Feed)
		} else if err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (a *API) listAlertRules(w http.ResponseWriter, r *http.Request) {
	rules, err := a.Store.AlertRules(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := []alertRuleBody{}
	for _, rule := range rules {
		out = append(out, alertRuleToBody(rule))
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"alert_rules": out})
}

func (a *API) getAlertRule(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	rule, err := a.Store.AlertRule(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, alertRuleToBody(rule))
}

func (a *API) createAlertRule(w http.ResponseWriter, r *http.Request) {
	var b alertRuleBody
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	rule, err := a.toAlertRule(r.Context(), b)
	if err == nil {
		err = a.Store.CreateAlertRule(r.Context(), rule)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/alert-rules/"+strconv.FormatInt(rule.ID, 10))
	a.writeJSON(w, http.StatusCreated, alertRuleToBody(rule))
}

func (a *API) updateAlertRule(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var b alertRuleBody
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	if b.ID != 0 && b.ID != id {
		a.Error(w, r, focal.FieldErrorf("id", "does not match the URL (%d)", id))
		return
	}
	rule, err := a.toAlertRule(r.Context(), b)
	if err == nil {
		rule.ID = id
		err = a.Store.UpdateAlertRule(r.Context(), rule)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, alertRuleToBody(rule))
}

func (a *API) deleteAlertRule(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = a.Store.DeleteAlertRule(r.Context(), id)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
