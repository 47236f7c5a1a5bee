# net-rtt-cdf.gp — the CDF of the round-trip latency each workload measured
# (net-echo: one UDP request to its reply), for the domains with network
# traffic,, per domain or per group of replicas
# (the median of its members' CDFs at each latency, and their p5-p95 band),
# from plots/net-rtt-cdf.csv, which results_plot (hv/plot_cdf.c) derives from
# app-latency.csv (domain,latency_ns,cdf: a point per histogram bucket): latency_ns, then per series its CDF (median, p5, p95 for a
# group), each latency where a curve steps twice (the values before it,
# then at it), so that plain lines draw the steps. It sets:
#   term       'svg' | 'pngcairo' | 'png'
#   out        the output file
#   title_txt  the graph title
#   nodata     '1' when there is nothing to draw: empty axes, not a failure
#   domains, counts, cols   the series (below)
#   data       that file

# ---- terminal and style (the same in every fairvisor template) ----
# results_plot draws every graph in one gnuplot: nothing set by the graph
# before may remain.
reset
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
set encoding utf8
# Domain names are data, not markup: no enhanced-text subscripts for '_'.
set termoption noenhanced

set datafile separator ','
set datafile missing NaN
set title title_txt
set grid
set key outside right top

# 12 distinguishable colours (results_plot draws at most 12 series).
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

# The series: domains (names), counts (members: more than 1 is a group of
# replicas, drawn as its median line and its p5-p95 band) and cols (the
# first column of each in data).
n = words(domains)
cnt(i) = word(counts, i) + 0
col(i) = word(cols, i) + 0
grp(i) = cnt(i) > 1
# A series' columns per metric: 1 for a domain, 3 (median, p5, p95) for a group.
w(i) = grp(i) ? 3 : 1
# Its legend entry.
name(i, what) = grp(i) ? sprintf('%s (×%d)%s median, p5–p95', word(domains, i), cnt(i), what) \
                       : word(domains, i).what
# ---- this graph ----

set xlabel 'round-trip latency (ms, log scale)'
set ylabel 'fraction of round trips'
set logscale x 10
set format x '%g'
set yrange [0:1.02]
set ytics 0, 0.1, 1
set key inside right bottom opaque box

if (nodata eq '1') {
    set xrange [0.001:1000]
    plot NaN notitle
} else {
    # A 0 ns latency has no place on a log axis; it is drawn at 1 ns,
    # the histogram's resolution.
    X(ns) = (ns > 0 ? ns : 1) / 1e6
    plot for [i = 1:n] data skip 1 \
             using (X($1)):(grp(i) ? column(col(i) + 1) : NaN):(column(col(i) + 2)) \
             with filledcurves fs transparent solid 0.2 noborder linetype i notitle, \
         for [i = 1:n] data skip 1 using (X($1)):(column(col(i))) \
             with lines linetype i title name(i, '')
}
