# cpu-share.gp — each domain's CPU share over time (DESIGN §7), from
# timeline.csv. Run by results_plot (hv/plot.c), which sets:
#   term       'svg' | 'pngcairo' | 'png'
#   out        the output file
#   data       timeline.csv (t_s,domain,cpu_ns,cpu_share,...)
#   domains    the domains to draw, space-separated (at most 12)
#   title_txt  the graph title
#   nodata     '1' when the file has no rows: draw empty axes, not fail
# By hand: gnuplot -e "term='svg'; out='x.svg'; data='timeline.csv'; \
#   domains='a b'; title_txt='t'; nodata='0'" tools/gnuplot/cpu-share.gp

# ---- terminal and style (the same in every fairvisor template) ----
if (term eq 'svg') {
    set terminal svg size 1000,600 dynamic background rgb 'white' font 'sans,12'
} else {
    if (term eq 'pngcairo') {
        set terminal pngcairo size 1000,600 background rgb 'white' font 'sans,10'
    } else {
        set terminal png size 1000,600 background rgb 'white'
    }
}
set output out
# Domain names are data, not markup: no enhanced-text subscripts for '_'.
set termoption noenhanced

set datafile separator ','
set datafile missing NaN
set title title_txt
set grid
set key outside right top

# 12 distinguishable colours (results_plot draws at most 12 domains).
set linetype 1 linecolor rgb '#1f77b4' linewidth 2 dashtype 1
set linetype 2 linecolor rgb '#ff7f0e' linewidth 2 dashtype 1
set linetype 3 linecolor rgb '#2ca02c' linewidth 2 dashtype 1
set linetype 4 linecolor rgb '#d62728' linewidth 2 dashtype 1
set linetype 5 linecolor rgb '#9467bd' linewidth 2 dashtype 1
set linetype 6 linecolor rgb '#8c564b' linewidth 2 dashtype 1
set linetype 7 linecolor rgb '#e377c2' linewidth 2 dashtype 1
set linetype 8 linecolor rgb '#7f7f7f' linewidth 2 dashtype 1
set linetype 9 linecolor rgb '#bcbd22' linewidth 2 dashtype 1
set linetype 10 linecolor rgb '#17becf' linewidth 2 dashtype 1
set linetype 11 linecolor rgb '#393b79' linewidth 2 dashtype 1
set linetype 12 linecolor rgb '#ad494a' linewidth 2 dashtype 1
# ---- this graph ----

set xlabel 'time (s)'
set ylabel 'CPU share (% of all pCPUs)'
set format y '%g%%'

if (nodata eq '1') {
    set xrange [0:1]
    set yrange [0:100]
    plot NaN notitle
} else {
    set yrange [0:*]
    set offsets 0, 0, graph 0.05, 0     # keep a line at the maximum off the border
    # One series per domain: rows of other domains become NaN, which
    # `set datafile missing NaN` skips without breaking the line.
    plot for [d in domains] data skip 1 using 1:(strcol(2) eq d ? $4 * 100 : NaN) \
         with lines lw 2 title d
}
