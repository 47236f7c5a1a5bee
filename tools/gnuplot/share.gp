# share.gp — the CPU share each domain, or each group of replicas,
# received (dark) next to the share it was entitled to (light), with a mark
# over those that starved (starvation_events > 0). A group's bars are its
# medians with its p5-p95 as error bars, and its mark says how many of its
# members starved. Run by results_plot (hv/plot_share.c), which sets:
#   term       'svg' | 'pngcairo' | 'png'
#   out        the output file
#   title_txt  the graph title
#   nodata     '1' when there is nothing to draw: empty axes, not a failure
#   domains, counts, cols   the series (below)
#   data       plots/share.csv, from summary.json: series,members,received,
#              received_p5,received_p95,entitled,entitled_p5,entitled_p95,
#              starved (the members with starvation events)
#   nstarved   the series with a member that starved
#   nbars      the series (rows of data)
#   ymax       the tallest bar or error bar, in % (the marks go above it)
# By hand: gnuplot -e "term='svg'; out='x.svg'; data='plots/share.csv'; \
#   domains=''; counts=''; cols=''; title_txt='t'; nodata='0'; \
#   nstarved='1'; nbars='3'; ymax='50'" tools/gnuplot/share.gp

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

set ylabel 'CPU share (% of all pCPUs)'
set format y '%g%%'
set key inside right top
set style fill solid 0.9 border -1
set boxwidth 0.38
set grid noxtics ytics
set xtics rotate by -30 left nomirror

if (nodata eq '1') {
    set xrange [-1:1]
    set yrange [0:100]
    plot NaN notitle
} else {
    # Room above the tallest bar (or error bar) for the marks.
    top = ymax + 0 > 0 ? ymax + 0 : 1
    set yrange [0:top * 1.15]
    set xrange [-0.6:nbars - 0.4]
    label(s, k) = k > 1 ? sprintf('%s (×%d)', s, k) : s
    above(r) = (column(5) > column(8) ? column(5) : column(8)) * 100 + top * 0.04
    plot data skip 1 using ($0 - 0.2):($3 * 100):xtic(label(strcol(1), $2)) \
             with boxes linecolor rgb '#1f77b4' title 'received', \
         data skip 1 using ($0 + 0.2):($6 * 100) \
             with boxes linecolor rgb '#aec7e8' title 'entitled', \
         data skip 1 using ($0 - 0.2):($2 > 1 ? $4 * 100 : NaN):(0):(($5 - $4) * 100) \
             with vectors nohead linecolor rgb 'black' linewidth 1.5 notitle, \
         data skip 1 using ($0 + 0.2):($2 > 1 ? $7 * 100 : NaN):(0):(($8 - $7) * 100) \
             with vectors nohead linecolor rgb 'black' linewidth 1.5 notitle, \
         data skip 1 using ($0 - 0.2):($9 > 0 ? above(0) : NaN) \
             with points pointtype 9 pointsize 2 linecolor rgb '#d62728' \
             title (nstarved + 0 > 0 ? 'starved' : ''), \
         data skip 1 using ($0 - 0.2):($9 > 0 && $2 > 1 ? above(0) : NaN):(sprintf('%d/%d', $9, $2)) \
             with labels offset 0,1.2 textcolor rgb '#d62728' notitle
}
