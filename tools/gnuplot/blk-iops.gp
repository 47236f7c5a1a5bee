# blk-iops.gp — each domain's block requests per second over time, reads
# (solid) and writes (dashed). Run by results_plot (hv/plot_io.c) with the
# same variables as cpu-share.gp; data is plots/blk-iops.csv
# (t_s,domain,read_iops,write_iops), which results_plot derives from
# timeline.csv's blk_reads and blk_writes over each row's interval.
# By hand: gnuplot -e "term='svg'; out='x.svg'; \
#   data='plots/blk-iops.csv'; domains='a b'; title_txt='t'; \
#   nodata='0'" tools/gnuplot/blk-iops.gp

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
set ylabel 'requests per second (IOPS)'

if (nodata eq '1') {
    set xrange [0:1]
    set yrange [0:1]
    plot NaN notitle
} else {
    set yrange [0:*]
    set offsets 0, 0, graph 0.05, 0     # keep a line at the maximum off the border
    # A domain keeps its colour in both series; other domains' rows are NaN.
    plot for [i = 1:words(domains)] data skip 1 \
         using 1:(strcol(2) eq word(domains, i) ? $3 : NaN) \
         with lines linetype i title word(domains, i).' reads', \
         for [i = 1:words(domains)] data skip 1 \
         using 1:(strcol(2) eq word(domains, i) ? $4 : NaN) \
         with lines linetype i dashtype 2 title word(domains, i).' writes'
}
