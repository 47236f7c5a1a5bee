/* gnuplot.h — finding and running gnuplot, shared by the graph writers
 * (plot.c, compare_plot.c, sweep_plot.c). gnuplot is run directly
 * (posix_spawnp, no shell: paths are never re-parsed) and handed its
 * variables as `name='value'; ...` with -e; each image is written to a
 * temporary name and committed with gp_commit_image.
 */
#ifndef FV_GNUPLOT_H
#define FV_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Room for what gnuplot says: its error comes last, after any warnings. */
#define GP_OUT_MAX 4096

/* An executable gnuplot in a directory of $PATH (an empty element: "."). */
bool gp_available(void);

/* The templates' directory into out: $FV_GNUPLOT_DIR, then next to the
 * executable (../tools/gnuplot, tools/gnuplot), then FV_SOURCE_DIR's
 * tools/gnuplot; the first holding the file `probe`. 0, -ENOENT if none,
 * -ENAMETOOLONG if $FV_GNUPLOT_DIR does not fit. */
int gp_template_dir(const char *probe, char *out, size_t n);

/* Append name='value'; to m: a quote doubled, a newline or CR made a
 * space (it would end the -e statement). */
void gp_put(FILE *m, const char *name, const char *val);

/* vars followed by term='TERM'; out='OUT'; (what a template needs to draw
 * one image), malloc'd; NULL if out of memory. */
char *gp_image_vars(const char *vars, const char *term, const char *out);

/* gnuplot -e VARS TMPL (tmpl NULL: vars is the whole script). Its stdout
 * and stderr land in out in the order written, the last outlen - 1 bytes
 * kept (outlen >= 1); "cannot run gnuplot: ..." if it could not start.
 * *status = its wait status (0 if it never ran or was not waited for).
 * 0 if it exited 0, -EIO if it ran and failed, else -errno (-ENOENT: no
 * gnuplot). */
int gp_run(const char *vars, const char *tmpl, char *out, size_t outlen, int *status);

/* "exit status 1" or "killed by signal 9", for a wait status; returns buf. */
const char *gp_wait_text(int status, char *buf, size_t n);

/* gnuplot's last non-empty line: trailing newlines and spaces cut from out
 * in place, then where its last line starts (out itself if one line). */
const char *gp_last_line(char *out);

/* An image gnuplot left in tmp: non-empty (-EIO if empty), durable
 * (fsync), renamed to final. 0 or -errno (-ENOENT: none written). */
int gp_commit_image(const char *tmp, const char *final);

#endif
