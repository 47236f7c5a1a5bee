# blk-latency-cdf.gp — per-domain CDF of its block requests' service
# latency (a request taken off the ring to its answer), from
# blk-latency.csv (domain,latency_ns,cdf: one point per histogram bucket,
# the shape of wakeup-latency.csv). Run by results_plot (hv/plot_io.c)
# with the same variables as cpu-share.gp, when the run had block traffic.

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

set xlabel 'request latency (ms, log scale)'
set ylabel 'fraction of requests'
set logscale x 10
set format x '%g'
set yrange [0:1.02]
set ytics 0, 0.1, 1
set key inside right bottom

if (nodata eq '1') {
    set xrange [0.001:1000]
    plot NaN notitle
} else {
    # A 0 ns latency has no place on a log axis; it is drawn at 1 ns, the
    # histogram's resolution.
    X(ns) = (ns > 0 ? ns : 1) / 1e6
    # `steps` joins a domain's points but cannot draw the first rise from 0
    # (or anything for a domain with a single point): one vertical line each,
    # at the domain's first point (smallest latency, smallest fraction).
    do for [i = 1:words(domains)] {
        d = word(domains, i)
        stats data skip 1 using (strcol(1) eq d ? X($2) : NaN):(strcol(1) eq d ? $3 : NaN) nooutput
        set arrow i from STATS_min_x, 0 to STATS_min_x, STATS_min_y nohead linetype i
    }
    plot for [i = 1:words(domains)] data skip 1 \
         using (X($2)):(strcol(1) eq word(domains, i) ? $3 : NaN) \
         with steps linetype i title word(domains, i)
}
