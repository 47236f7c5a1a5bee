# compare-throughput.gp — each domain's (or group's) throughput as a
# percentage of the highest run for that row, one bar per run: packets
# received/s, IOPS or work units/s, as the label says (the absolute values
# are in compare.csv).
# Run by `fairvisor compare` (hv/compare_plot.c), which sets:
#   term       'svg' | 'pngcairo' | 'png'
#   out        the output file
#   data       compare-throughput.csv in the compare directory: the row's label,
#              then one column per run headed by the run's label
#              ("1: credit (density)")
#   nruns      how many runs (columns after the label)
#   title_txt  the graph title
#   nodata     '1' when there are no rows: draw empty axes, not fail
# By hand: gnuplot -e "term='svg'; out='x.svg'; data='compare-throughput.csv'; \
#   nruns='2'; title_txt='t'; nodata='0'" tools/gnuplot/compare-throughput.gp

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

# 12 distinguishable colours, one per run (the same as the run graphs').
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

set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid noxtics ytics
set xtics nomirror rotate by -30 left
nr = int(nruns)
set ylabel 'throughput (% of the highest run)'
set yrange [0:110]
set format y '%g%%'

if (nodata eq '1') {
    set xrange [0:1]
    plot NaN notitle
} else {
    plot for [i = 2:nr + 1] data using i:xtic(1) title columnhead(i) linetype (i - 1)
}
