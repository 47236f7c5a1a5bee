# sweep-density.gp — a sweep's density curve: the SLO field (left axis) and
# the aggregate throughput (right axis) against the first --vary key, one
# colour per series (a policy, with the values of any other --vary keys),
# through the median over the repeats with min..max error bars, the SLO
# threshold as a dotted line. Run by fairvisor sweep (hv/sweep_plot.c), which
# sets:
#   term        'svg' | 'pngcairo' | 'png'
#   out         the output file
#   data        plots/density.dat: one block per series (blocks apart by two
#               blank lines), rows x,label,y1_med,y1_min,y1_max,y2_med,
#               y2_min,y2_max,runs
#   nseries     the number of blocks; t0, t1, ... their titles
#   title_txt, xlabel_txt, ylabel_txt, y2label_txt
#   slo_y       the SLO threshold in the left axis' unit, or '' for none
#   xt          '1': label the x tics with the values as written
# By hand: gnuplot -e "term='svg'; out='d.svg'; data='plots/density.dat'; \
#   nseries=1; t0='credit'; title_txt='t'; xlabel_txt='x'; ylabel_txt='y'; \
#   y2label_txt='y2'; slo_y='1'; xt='1'" tools/gnuplot/sweep-density.gp

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
set termoption noenhanced

set datafile separator ','
set datafile missing NaN
set title title_txt
set grid
set key below

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

set xlabel xlabel_txt
set ylabel ylabel_txt
set y2label y2label_txt
set ytics nomirror
set y2tics
set format y2 '%.1s%c'
set yrange [0:*]
set y2range [0:*]
set offsets graph 0.03, graph 0.03, graph 0.05, 0
set bars small

# The x tics: the values as written (10ms, 20k) when sweep_plot says so.
u1 = (xt eq '1') ? '1:3:4:5:xticlabels(2)' : '1:3:4:5'

if (slo_y eq '') {
    plot for [i=0:nseries-1] data index i using @u1 \
             with yerrorlines lt (i % 12) + 1 title value(sprintf('t%d', i)), \
         for [i=0:nseries-1] data index i using 1:6:7:8 axes x1y2 \
             with yerrorlines lt (i % 12) + 1 dt 2 pt 6 \
             title value(sprintf('t%d', i)).': throughput'
} else {
    slo = slo_y + 0.0
    plot for [i=0:nseries-1] data index i using @u1 \
             with yerrorlines lt (i % 12) + 1 title value(sprintf('t%d', i)), \
         for [i=0:nseries-1] data index i using 1:6:7:8 axes x1y2 \
             with yerrorlines lt (i % 12) + 1 dt 2 pt 6 \
             title value(sprintf('t%d', i)).': throughput', \
         slo with lines lc rgb 'black' lw 1 dt 3 title 'SLO'
}
