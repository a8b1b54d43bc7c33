# Plots bench's TestStemPrivacy table (ICBENCH_PRIVACY_OUT) into docs/privacy.png:
#   gnuplot -e "data='docs/privacy.tsv'" docs/privacy.gp
# Left: the first-spy estimator's precision against the fluff probability q
# (q = 0: stem off), with the 5th-95th percentile over spy sets; dashed: the
# goal, 1.5 x p. Right: the stem's p50 latency cost over stem off; dashed:
# the goal, 0.5 s.
if (!exists("data")) data = 'docs/privacy.tsv'
if (!exists("out")) out = 'docs/privacy.png'
set terminal pngcairo size 1200,480 font "sans,11"
set output out
set multiplot layout 1,2
set key top right
set grid
set xlabel "fluff probability q (0 = stem off)"
set ylabel "first-spy precision"
set xrange [-0.03:0.55]
set yrange [0:1]
plot data using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#1b9e77" title "p = 5%", \
     data using 1:5:6:7 with yerrorlines lw 2 pt 7 lc rgb "#d95f02" title "p = 10%", \
     data using 1:8:9:10 with yerrorlines lw 2 pt 7 lc rgb "#7570b3" title "p = 30%", \
     0.075 with lines dt 2 lc rgb "#1b9e77" title "goal 1.5 p", \
     0.15 with lines dt 2 lc rgb "#d95f02" notitle, \
     0.45 with lines dt 2 lc rgb "#7570b3" notitle
set ylabel "p50 latency cost over stem off (ms)"
set yrange [0:600]
set key top right
plot data using 1:12 with linespoints lw 2 pt 7 lc rgb "#333333" title "p50 cost", \
     500 with lines dt 2 lc rgb "#e7298a" title "goal 0.5 s"
unset multiplot
