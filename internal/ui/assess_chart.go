package ui

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strings"
)

// The assessment charts are drawn on the server as SVG with presentation
// attributes only (the CSP allows no inline style), every text escaped.
// Each takes a title and a summary for screen readers.

// chartPalette colours series in order; chosen to stay apart for the
// common colour-vision deficiencies.
var chartPalette = []string{"#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0550ae"}

func seriesColour(i int) string { return chartPalette[i%len(chartPalette)] }

// barGroup is one category of a grouped bar chart (a pillar) with one
// value per series (a country, or declared and public scores).
type barGroup struct {
	Label  string
	Values []float64
}

// barChart draws horizontal grouped bars from 0 to max.
func barChart(id, title, summary string, series []string, groups []barGroup, max float64) template.HTML {
	const width, left, barH, gap, top = 640, 190, 14, 10, 8
	if max <= 0 {
		max = 1
	}
	groupH := barH*len(series) + gap
	height := top + groupH*len(groups) + 24 + 18*((len(series)+2)/3)
	var b strings.Builder
	svgOpen(&b, id, title, summary, width, height)
	plot := float64(width - left - 50)
	for i := 0; i <= 4; i++ {
		x := left + int(plot*float64(i)/4)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#d0d7de"/>`, x, x, top, top+groupH*len(groups))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="middle" fill="#57606a">%s</text>`, x, top+groupH*len(groups)+14, esc(num1(max*float64(i)/4)))
	}
	for gi, g := range groups {
		y0 := top + gi*groupH
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" fill="#24292f">%s</text>`, left-6, y0+groupH/2+3, esc(trim(g.Label, 28)))
		for si, v := range g.Values {
			w := plot * math.Max(0, math.Min(v, max)) / max
			y := y0 + si*barH
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`,
				left, y, w, barH-2, seriesColour(si), esc(name(series, si)+" · "+g.Label), esc(num1(v)))
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" fill="#24292f">%s</text>`, float64(left)+w+3, y+barH-4, esc(num1(v)))
		}
	}
	legend(&b, series, top+groupH*len(groups)+24, width)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above is escaped
}

// radarChart draws one polygon per series over axes; values are fractions
// from 0 to 1 of each axis.
func radarChart(id, title, summary string, axes []string, series []string, values [][]float64) template.HTML {
	const size, pad = 360, 140
	width, height := size+2*pad, size+40+18*((len(series)+2)/3)
	cx, cy, r := float64(width)/2, float64(size)/2+20, float64(size)/2-10
	var b strings.Builder
	svgOpen(&b, id, title, summary, width, height)
	n := len(axes)
	if n < 3 {
		b.WriteString(`<text x="10" y="20" font-size="12">Too few axes for a radar.</text></svg>`)
		return template.HTML(b.String()) //nolint:gosec // constant text
	}
	pt := func(i int, f float64) (float64, float64) {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
		return cx + r*f*math.Cos(a), cy + r*f*math.Sin(a)
	}
	for _, ring := range []float64{0.25, 0.5, 0.75, 1} {
		var p []string
		for i := 0; i < n; i++ {
			x, y := pt(i, ring)
			p = append(p, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		fmt.Fprintf(&b, `<polygon points="%s" fill="none" stroke="#d0d7de"/>`, strings.Join(p, " "))
	}
	for i, a := range axes {
		x, y := pt(i, 1)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d0d7de"/>`, cx, cy, x, y)
		lx, ly := pt(i, 1.12)
		anchor := "middle"
		if lx < cx-5 {
			anchor = "end"
		} else if lx > cx+5 {
			anchor = "start"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="%s" fill="#24292f">%s</text>`, lx, ly+4, anchor, esc(trim(a, 26)))
	}
	for si, vals := range values {
		var p []string
		for i := 0; i < n && i < len(vals); i++ {
			x, y := pt(i, math.Max(0, math.Min(1, vals[i])))
			p = append(p, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		fmt.Fprintf(&b, `<polygon points="%s" fill="%s" fill-opacity="0.12" stroke="%s" stroke-width="2"><title>%s</title></polygon>`,
			strings.Join(p, " "), seriesColour(si), seriesColour(si), esc(name(series, si)))
	}
	legend(&b, series, size+30, width)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above is escaped
}

// linePoint is one point of a trend line.
type linePoint struct {
	X     int // a year
	Y     float64
	Label string // tooltip
}

// lineSeries is one trend line; Dashed draws a target or reference.
type lineSeries struct {
	Name   string
	Points []linePoint
	Dashed bool
}

// lineChart draws trend lines over years from 0 to max.
func lineChart(id, title, summary string, series []lineSeries, top float64) template.HTML {
	const width, height, left, right, margin, bottom = 640, 260, 44, 20, 10, 30
	minX, maxX := math.MaxInt, math.MinInt
	for _, s := range series {
		for _, p := range s.Points {
			minX, maxX = min(minX, p.X), max(maxX, p.X)
		}
	}
	var names []string
	for _, s := range series {
		names = append(names, s.Name)
	}
	total := height + 18*((len(series)+2)/3)
	var b strings.Builder
	svgOpen(&b, id, title, summary, width, total)
	if minX > maxX {
		b.WriteString(`<text x="10" y="20" font-size="12">No scores yet.</text></svg>`)
		return template.HTML(b.String()) //nolint:gosec // constant text
	}
	if minX == maxX {
		minX, maxX = minX-1, maxX+1
	}
	if top <= 0 {
		top = 1
	}
	pw, ph := float64(width-left-right), float64(height-margin-bottom)
	px := func(x int) float64 { return float64(left) + pw*float64(x-minX)/float64(maxX-minX) }
	py := func(y float64) float64 { return float64(margin) + ph*(1-math.Max(0, math.Min(y, top))/top) }
	for i := 0; i <= 4; i++ {
		y := py(top * float64(i) / 4)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d0d7de"/>`, left, width-right, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#57606a">%s</text>`, left-4, y+4, esc(num1(top*float64(i)/4)))
	}
	step := max(1, (maxX-minX)/8)
	for x := minX; x <= maxX; x += step {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#57606a">%d</text>`, px(x), height-bottom+16, x)
	}
	for si, s := range series {
		pts := append([]linePoint(nil), s.Points...)
		sort.Slice(pts, func(i, j int) bool { return pts[i].X < pts[j].X })
		var p []string
		for _, q := range pts {
			p = append(p, fmt.Sprintf("%.1f,%.1f", px(q.X), py(q.Y)))
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, strings.Join(p, " "), seriesColour(si), dash)
		for _, q := range pts {
			label := q.Label
			if label == "" {
				label = fmt.Sprintf("%s %d: %s", s.Name, q.X, num1(q.Y))
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s</title></circle>`, px(q.X), py(q.Y), seriesColour(si), esc(label))
		}
	}
	legend(&b, names, height+4, width)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above is escaped
}

func svgOpen(b *strings.Builder, id, title, summary string, width, height int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d" id="%s" class="assess-chart">`,
		width, height, width, height, esc(id), esc(id), esc(id))
	fmt.Fprintf(b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(id), esc(title), esc(id), esc(summary))
}

func legend(b *strings.Builder, series []string, y, width int) {
	col := width / 3
	for i, s := range series {
		x, yy := 10+(i%3)*col, y+(i/3)*18
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12" fill="#24292f">%s</text>`,
			x, yy, seriesColour(i), x+16, yy+10, esc(trim(s, 34)))
	}
}

func name(series []string, i int) string {
	if i < len(series) {
		return series[i]
	}
	return ""
}

func esc(s string) string { return html.EscapeString(s) }

func trim(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// num1 formats a score with at most one decimal.
func num1(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}
