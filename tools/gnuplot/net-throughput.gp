# net-throughput.gp — the network throughput over time, received (solid)
# and sent (dashed) in Mbit/s, of each domain that had traffic or group of
# replicas (its median and p5-p95 band), with the starvation events on the
# network shaded. Run by results_plot (hv/plot_io.c), which sets:
#   term       'svg' | 'pngcairo' | 'png'
#   out        the output file
#   title_txt  the graph title
#   nodata     '1' when there is nothing to draw: empty axes, not a failure
#   domains, counts, cols   the series (below)
#   data       plots/net-throughput.csv: t_s, then per series rx_mbit_s and
#              tx_mbit_s (each median, p5, p95 for a group), from
#              timeline.csv's net_rx_bytes and net_tx_bytes over each interval
#   nstarve, nlabels   the starvation marks (below)
# By hand: gnuplot -e "term='svg'; out='x.svg'; \
#   data='plots/net-throughput.csv'; domains='web'; counts='1'; cols='2'; \
#   title_txt='t'; nodata='0'; nstarve='0'; nlabels='0'" tools/gnuplot/net-throughput.gp

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

# Starvation events of this graph's resource (from starvation.csv) follow
# the table in data: index 1 holds the shaded spans (start_s,end_s; nstarve
# of them), index 2 a label per event naming its victim (start_s,domain;
# nlabels of them, none when there are too many to read). Without events
# those blocks are absent, which gnuplot only warns about.
set y2range [0:1]
unset y2tics

set xlabel 'time (s)'
set ylabel 'throughput (Mbit/s)'

if (nodata eq '1') {
    set xrange [0:1]
    set yrange [0:1]
    plot NaN notitle
} else {
    set yrange [0:*]
    set offsets 0, 0, graph 0.05, 0     # keep a line at the maximum off the border
    plot for [i = 1:n] data index 0 skip 1 \
             using 1:(grp(i) ? column(col(i) + 1) : NaN):(column(col(i) + 2)) \
             with filledcurves fs transparent solid 0.2 noborder linetype i notitle, \
         for [i = 1:n] data index 0 skip 1 \
             using 1:(grp(i) ? column(col(i) + w(i) + 1) : NaN):(column(col(i) + w(i) + 2)) \
             with filledcurves fs transparent solid 0.1 noborder linetype i notitle, \
         for [i = 1:n] data index 0 skip 1 using 1:(column(col(i))) \
             with lines linetype i title name(i, ' rx'), \
         for [i = 1:n] data index 0 skip 1 using 1:(column(col(i) + w(i))) \
             with lines linetype i dashtype 2 title name(i, ' tx'), \
         data index 1 using (($1+$2)/2):(0.5):(($2-$1)/2):(0.5) axes x1y2 \
             with boxxyerror fs transparent solid 0.15 noborder lc rgb '#d62728' \
             title (nstarve + 0 > 0 ? 'starved (net)' : ''), \
         data index 2 using 1:(0.02):2 axes x1y2 with labels left rotate by 90 \
             offset 0.4,0 textcolor rgb '#d62728' notitle
}
