package main

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// drawPlot draws every strategy's frontier (accuracy against the share of
// tasks sent to the LLM) with LLM-only and SLM-only as points.
func drawPlot(r *report, path string) error {
	p := plot.New()
	p.Title.Text = "Accuracy against LLM use: " + r.Dataset
	p.X.Label.Text = "share of tasks sent to the LLM"
	p.Y.Label.Text = "accuracy"
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(4)
	p.Legend.YOffs = vg.Points(4)
	p.Add(plotter.NewGrid())

	colors := []color.RGBA{{R: 150, G: 150, B: 150, A: 255}, {R: 31, G: 119, B: 180, A: 255},
		{R: 214, G: 39, B: 40, A: 255}, {R: 44, G: 160, B: 44, A: 255}}
	for i, s := range r.Strategies {
		xys := make(plotter.XYs, len(s.Frontier))
		for j, pt := range s.Frontier {
			xys[j] = plotter.XY{X: pt.LLMShare, Y: pt.Accuracy}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		line.Color = colors[i%len(colors)]
		line.Width = vg.Points(1.5)
		if s.Name == "oracle" || s.Name == "random" {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(line)
		p.Legend.Add(s.Name, line)
	}
	for _, pt := range []struct {
		name  string
		x, y  float64
		shape draw.GlyphDrawer
	}{
		{"LLM-only", 1, r.LLMOnly.Accuracy, draw.BoxGlyph{}},
		{"SLM-only", 0, r.SLMOnly.Accuracy, draw.TriangleGlyph{}},
	} {
		sc, err := plotter.NewScatter(plotter.XYs{{X: pt.x, Y: pt.y}})
		if err != nil {
			return err
		}
		sc.GlyphStyle.Shape = pt.shape
		sc.GlyphStyle.Radius = vg.Points(5)
		p.Add(sc)
		p.Legend.Add(pt.name, sc)
	}
	lo, hi := r.SLMOnly.Accuracy, r.LLMOnly.Accuracy
	for _, s := range r.Strategies {
		for _, pt := range s.Frontier {
			lo, hi = min(lo, pt.Accuracy), max(hi, pt.Accuracy)
		}
	}
	p.X.Min, p.X.Max = 0, 1
	p.Y.Min, p.Y.Max = lo-0.02, hi+0.02
	return p.Save(7*vg.Inch, 5*vg.Inch, path)
}
