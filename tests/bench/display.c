/* display.c
 *
 * Copyright 2026 The Casement authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program.  If not, see <http://www.gnu.org/licenses/>.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* The display benchmark (build-aux/bench display): how much CPU a client
 * spends showing a guest that animates its whole screen, CasementDisplay
 * against remote-viewer (spice-gtk), each connected in turn to the same
 * running test guest for the same time. See main() for the options.
 *
 * Runs under an X server (build-aux/bench starts Xvfb). */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <adwaita.h>
#include <glib-unix.h>

#include "casement-display.h"
#include "casement-qemu-command.h"
#include "casement-test-guest.h"
#include "casement-test-util.h"
#include "casement-vm.h"

#define BOOT_TIMEOUT_S 180

typedef struct
{
  const char *label;
  gboolean    ours;
  const char *renderer;     /* ours: "auto" (as the app), "x11-copy" (the X11
                             * path with a mirror of the frame), "gtk-cairo"
                             * (the app's renderer without the X11 path) or
                             * "gtk" (GTK's default renderer) */
} Client;

typedef struct
{
  double  cpu_s;
  double  qemu_cpu_s;
  double  xserver_cpu_s;    /* < 0: not known */
  double  frames;
  double  invalidated_mpx;
  double  uploaded_mpx;
  double  copied_mpx;
  double  late_frames;
  double  guest_fps;        /* frames the guest drew per second; < 0: unknown */
  gint64  max_delay_us;
  char   *mode;
} Sample;

static GPid qemu_pid;
static GPid xserver_pid;
static GPid client_pid;

/* ------------------------------------------------------------------ */
/* Client: one CasementDisplay in a window, as small as the app gets.  */
/* ------------------------------------------------------------------ */

static gboolean
client_print_stats (gpointer user_data)
{
  CasementDisplay *display = user_data;
  CasementDisplayStats stats;
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (display));

  casement_display_get_stats (display, &stats);
  g_print ("STATS state=%d path=%s renderer=%s frames=%" G_GUINT64_FORMAT
           " invalidated=%" G_GUINT64_FORMAT " uploaded=%" G_GUINT64_FORMAT
           " late=%" G_GUINT64_FORMAT " max_delay_us=%" G_GINT64_FORMAT
           " copied=%" G_GUINT64_FORMAT "\n",
           casement_display_get_state (display),
           casement_display_get_presenting (display) ? "x11"
             : casement_display_get_uses_gl (display) ? "gl" : "software",
           native != NULL ? G_OBJECT_TYPE_NAME (gtk_native_get_renderer (native)) : "none",
           stats.frames, stats.invalidated_pixels, stats.uploaded_pixels,
           stats.late_frames, stats.max_upload_delay_us, stats.copied_pixels);
  fflush (stdout);

  return G_SOURCE_CONTINUE;
}

static gboolean
client_quit (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static int
run_client (const char *socket_path,
            const char *renderer)
{
  GtkWindow *window;
  GtkWidget *display;
  gboolean done = FALSE;

  adw_init ();
  if (g_strcmp0 (renderer, "gtk-cairo") == 0)
    g_setenv ("CASEMENT_DISPLAY_NO_X11", "1", TRUE);
  if (g_strcmp0 (renderer, "x11-copy") == 0)
    g_setenv ("CASEMENT_DISPLAY_X11_SHARE", "0", TRUE);
  if (g_strcmp0 (renderer, "gtk") != 0)
    casement_display_choose_renderer ();

  window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_title (window, "casement-bench-display");
  gtk_window_set_decorated (window, FALSE);
  gtk_window_set_default_size (window, 1280, 800);
  display = casement_display_new ();
  gtk_window_set_child (window, display);
  gtk_window_present (window);
  casement_display_connect (CASEMENT_DISPLAY (display), socket_path);

  g_unix_signal_add (SIGUSR1, client_print_stats, display);
  g_unix_signal_add (SIGTERM, client_quit, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  gtk_window_destroy (window);

  return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Orchestrator                                                         */
/* ------------------------------------------------------------------ */

/* The X server's pid, from the lock file of $DISPLAY (":N"), so that its
 * share of the drawing shows too; 0 when unknown. */
static GPid
find_xserver_pid (void)
{
  const char *display = g_getenv ("DISPLAY");
  g_autofree char *lock_path = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *digits = NULL;
  guint64 number;

  if (display == NULL || display[0] != ':')
    return 0;
  digits = g_strndup (display + 1, strcspn (display + 1, "."));
  if (!g_ascii_string_to_unsigned (digits, 10, 0, G_MAXINT, &number, NULL))
    return 0;

  lock_path = g_strdup_printf ("/tmp/.X%" G_GUINT64_FORMAT "-lock", number);
  if (!g_file_get_contents (lock_path, &contents, NULL, NULL))
    return 0;

  return (GPid) g_ascii_strtoll (g_strstrip (contents), NULL, 10);
}

/* utime + stime of a process, in seconds. */
static double
process_cpu_s (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_comm;

  if (!g_file_get_contents (path, &contents, NULL, NULL) ||
      !(after_comm = strrchr (contents, ')')))
    g_error ("Cannot read %s: the process is gone", path);

  /* Fields after "(comm)": state is field 3, utime 14 and stime 15. */
  fields = g_strsplit (after_comm + 2, " ", -1);
  g_assert (g_strv_length (fields) > 13);

  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) / sysconf (_SC_CLK_TCK);
}

static guint64
stats_field (const char *line,
             const char *name)
{
  g_autofree char *key = g_strdup_printf (" %s=", name);
  const char *p = strstr (line, key);

  if (p == NULL)
    g_error ("The client's stats line has no %s: %s", name, line);

  return g_ascii_strtoull (p + strlen (key), NULL, 10);
}

static char *
stats_word (const char *line,
            const char *name)
{
  g_autofree char *key = g_strdup_printf (" %s=", name);
  const char *p = strstr (line, key);

  if (p == NULL)
    return g_strdup ("?");
  p += strlen (key);

  return g_strndup (p, strcspn (p, " \n"));
}

static goffset
file_size (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                                 G_FILE_QUERY_INFO_NONE, NULL, NULL);

  return info != NULL ? g_file_info_get_size (info) : 0;
}

/* The guest's drawing rate between two points of its serial log, from its
 * "TG: frames=<n> <uptime>" lines (every 100 frames): how fast it drew
 * decides how much there was to show, and it varies with the host's load. */
static double
guest_frame_rate (const char *serial_path,
                  goffset     from,
                  goffset     to)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  gsize length;
  double first_frames = -1, first_time = 0, last_frames = -1, last_time = 0;

  if (!g_file_get_contents (serial_path, &contents, &length, NULL) || to > (goffset) length || from >= to)
    return -1;
  contents[to] = '\0';
  lines = g_strsplit (contents + from, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      double frames, time;

      if (sscanf (lines[i], "TG: frames=%lf %lf", &frames, &time) != 2)
        continue;
      if (first_frames < 0)
        {
          first_frames = frames;
          first_time = time;
        }
      last_frames = frames;
      last_time = time;
    }

  return last_time > first_time ? (last_frames - first_frames) / (last_time - first_time) : -1;
}

/* Asks our client for its counters and reads its answer. */
static char *
client_stats (GSubprocess      *process,
              GDataInputStream *out)
{
  g_autoptr(GError) error = NULL;
  char *line;

  g_subprocess_send_signal (process, SIGUSR1);
  while ((line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error)) != NULL)
    {
      if (g_str_has_prefix (line, "STATS "))
        return line;
      g_free (line);
    }

  g_error ("The benchmark client ended without stats: %s", error != NULL ? error->message : "end of output");
}

static Sample
measure (const Client *client,
         const char   *self_exe,
         const char   *socket_path,
         const char   *serial_path,
         guint         warmup_s,
         guint         seconds)
{
  goffset serial_from, serial_to;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  double cpu0, cpu1, qemu0, qemu1, x0, x1;
  Sample sample = { 0 };

  if (client->ours)
    {
      g_autofree char *renderer = g_strdup_printf ("--renderer=%s", client->renderer);

      process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                  self_exe, "--client", socket_path, renderer, NULL);
    }
  else
    {
      g_autofree char *uri = g_strdup_printf ("spice+unix://%s", socket_path);

      process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                  &error, "remote-viewer", uri, NULL);
    }
  if (process == NULL)
    g_error ("Cannot start %s: %s", client->label, error->message);

  client_pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (process), NULL, 10);
  if (client->ours)
    out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));

  /* Connecting and the first full frame are not what is measured. */
  casement_test_spin (warmup_s * 1000);

  if (client->ours)
    {
      before = client_stats (process, out);
      if (stats_field (before, "state") != CASEMENT_DISPLAY_STATE_RUNNING)
        g_error ("Casement's display is not showing the guest after %u s: %s", warmup_s, before);
    }
  cpu0 = process_cpu_s (client_pid);
  qemu0 = process_cpu_s (qemu_pid);
  x0 = xserver_pid > 0 ? process_cpu_s (xserver_pid) : 0;
  serial_from = file_size (serial_path);

  casement_test_spin (seconds * 1000);

  serial_to = file_size (serial_path);
  cpu1 = process_cpu_s (client_pid);
  qemu1 = process_cpu_s (qemu_pid);
  x1 = xserver_pid > 0 ? process_cpu_s (xserver_pid) : 0;
  if (client->ours)
    after = client_stats (process, out);

  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, NULL);
  client_pid = 0;

  sample.cpu_s = cpu1 - cpu0;
  sample.qemu_cpu_s = qemu1 - qemu0;
  sample.xserver_cpu_s = xserver_pid > 0 ? x1 - x0 : -1;
  sample.guest_fps = guest_frame_rate (serial_path, serial_from, serial_to);
  if (client->ours)
    {
      sample.frames = stats_field (after, "frames") - stats_field (before, "frames");
      sample.invalidated_mpx = (stats_field (after, "invalidated") - stats_field (before, "invalidated")) / 1e6;
      sample.uploaded_mpx = (stats_field (after, "uploaded") - stats_field (before, "uploaded")) / 1e6;
      sample.copied_mpx = (stats_field (after, "copied") - stats_field (before, "copied")) / 1e6;
      sample.late_frames = stats_field (after, "late") - stats_field (before, "late");
      sample.max_delay_us = stats_field (after, "max_delay_us");
      sample.mode = g_strdup_printf ("%s path, %s", stats_word (after, "path"), stats_word (after, "renderer"));
    }

  return sample;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);

  if (values->len == 0)
    return 0;
  if (values->len % 2 == 1)
    return g_array_index (values, double, values->len / 2);

  return (g_array_index (values, double, values->len / 2 - 1) +
          g_array_index (values, double, values->len / 2)) / 2;
}

static char *
find_self (const char *argv0)
{
  char *path = g_file_read_link ("/proc/self/exe", NULL);

  return path != NULL ? path : g_canonicalize_filename (argv0, NULL);
}

static int
run_benchmark (const char *argv0,
               guint       runs,
               guint       seconds,
               guint       warmup_s,
               gboolean    all_paths)
{
  static const Client clients[] = {
    { "casement", TRUE, "auto" },
    { "remote-viewer", FALSE, NULL },
    { "casement, X11 mirror", TRUE, "x11-copy" },
    { "casement, GTK cairo", TRUE, "gtk-cairo" },
    { "casement, GTK's renderer", TRUE, "gtk" },
  };
  g_autoptr(CasementTestGuestEnv) env = NULL;
  g_autoptr(CasementVmStore) store = NULL;
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *run_dir = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *serial_path = NULL;
  g_autofree char *self_exe = find_self (argv0);
  GArray *cpu[G_N_ELEMENTS (clients)] = { NULL };
  GArray *rate[G_N_ELEMENTS (clients)] = { NULL };
  GArray *xcpu[G_N_ELEMENTS (clients)] = { NULL };
  GArray *per_frame[G_N_ELEMENTS (clients)] = { NULL };
  guint n_clients = all_paths ? G_N_ELEMENTS (clients) : 2;
  double ours, theirs;

  if (g_find_program_in_path ("remote-viewer") == NULL)
    {
      g_printerr ("remote-viewer is not installed (Debian package virt-viewer): nothing to compare with.\n");
      return EXIT_FAILURE;
    }

  if (!(env = casement_test_guest_env_new (&error)) ||
      !casement_test_guest_ensure (NULL, NULL, &error))
    {
      g_printerr ("Cannot prepare the test guest: %s\n", error->message);
      return EXIT_FAILURE;
    }

  xserver_pid = find_xserver_pid ();

  /* The VM and the clients (both name its sockets) end with the benchmark. */
  casement_test_kill_on_abort (casement_test_guest_env_get_dir (env));

  store = casement_vm_store_new (NULL);
  config = casement_test_guest_config_new ("Display Bench", "anim", NULL);
  casement_vm_store_create_async (store, config, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, BOOT_TIMEOUT_S, "VM creation");
  if (!(slug = casement_vm_store_create_finish (store, result, &error)))
    g_error ("Cannot create the VM: %s", error->message);
  g_clear_object (&result);

  vm = casement_vm_new (store, slug);
  casement_vm_start_async (vm, NULL, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, BOOT_TIMEOUT_S, "VM start");
  if (!casement_vm_start_finish (vm, result, &error))
    g_error ("Cannot start the VM: %s", error->message);
  g_clear_object (&result);
  qemu_pid = casement_vm_get_pid (vm);

  vm_dir = casement_vm_dup_vm_dir (vm);
  run_dir = casement_vm_dup_runtime_dir (vm, &error);
  g_assert_no_error (error);
  socket_path = g_build_filename (run_dir, CASEMENT_RUNTIME_SPICE_SOCKET, NULL);
  serial_path = g_build_filename (vm_dir, CASEMENT_VM_SERIAL_LOG, NULL);
  if (!casement_test_guest_wait_serial (serial_path, "^TG: anim start", BOOT_TIMEOUT_S * 1000, NULL, &error))
    g_error ("The guest did not start its animation: %s", error->message);

  g_print ("Display benchmark: test guest in tg.mode=anim (1280x800, the whole screen black/white in turn),\n"
           "each client shown alone under this X server for %u s after %u s to connect, %u runs.\n\n",
           seconds, warmup_s, runs);
  g_print ("%-3s  %-26s  %7s  %9s  %9s  %9s  %8s  %10s  %10s  %10s  %6s  %s\n",
           "run", "client", "cpu s", "X cpu s", "qemu cpu", "guest f/s", "frames/s", "inval Mpx/s", "upload Mpx/s",
           "copy Mpx/s", "late %", "mode");

  for (guint i = 0; i < n_clients; i++)
    {
      cpu[i] = g_array_new (FALSE, FALSE, sizeof (double));
      rate[i] = g_array_new (FALSE, FALSE, sizeof (double));
      xcpu[i] = g_array_new (FALSE, FALSE, sizeof (double));
      per_frame[i] = g_array_new (FALSE, FALSE, sizeof (double));
    }

  for (guint run = 1; run <= runs; run++)
    {
      for (guint i = 0; i < n_clients; i++)
        {
          Sample s = measure (&clients[i], self_exe, socket_path, serial_path, warmup_s, seconds);
          double uploaded_rate = s.uploaded_mpx / seconds;

          g_array_append_val (cpu[i], s.cpu_s);
          g_array_append_val (rate[i], uploaded_rate);
          g_array_append_val (xcpu[i], s.xserver_cpu_s);
          if (s.guest_fps > 0)
            {
              double ms_per_frame = 1000 * s.cpu_s / (s.guest_fps * seconds);

              g_array_append_val (per_frame[i], ms_per_frame);
            }

          if (clients[i].ours)
            g_print ("%-3u  %-26s  %7.2f  %9.2f  %9.2f  %9.1f  %8.1f  %10.1f  %10.1f  %10.1f  %6.1f  %s, longest wait %.1f ms\n",
                     run, clients[i].label, s.cpu_s, s.xserver_cpu_s, s.qemu_cpu_s, s.guest_fps, s.frames / seconds,
                     s.invalidated_mpx / seconds, uploaded_rate, s.copied_mpx / seconds,
                     s.frames > 0 ? 100 * s.late_frames / s.frames : 0, s.mode, s.max_delay_us / 1000.0);
          else
            g_print ("%-3u  %-26s  %7.2f  %9.2f  %9.2f  %9.1f  %8s  %10s  %10s  %10s  %6s\n",
                     run, clients[i].label, s.cpu_s, s.xserver_cpu_s, s.qemu_cpu_s, s.guest_fps,
                     "-", "-", "-", "-", "-");
          g_free (s.mode);
        }
    }

  g_print ("\nmedians over %u runs of %u s:\n", runs, seconds);
  for (guint i = 0; i < n_clients; i++)
    {
      double m = median (cpu[i]);

      double x = median (xcpu[i]);

      if (clients[i].ours)
        g_print ("  %-26s  %6.2f cpu s (X server %.2f), %.2f cpu ms per guest frame, %6.1f Mpx/s uploaded (%.2f cpu ms per Mpx)\n",
                 clients[i].label, m, x, median (per_frame[i]), median (rate[i]),
                 median (rate[i]) > 0 ? 1000 * m / (median (rate[i]) * seconds) : 0);
      else
        g_print ("  %-26s  %6.2f cpu s (X server %.2f), %.2f cpu ms per guest frame\n",
                 clients[i].label, m, x, median (per_frame[i]));
    }

  /* Shut the guest down before saying the result, so nothing lingers. */
  casement_vm_force_off_async (vm, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, BOOT_TIMEOUT_S, "force off");
  if (!casement_vm_force_off_finish (vm, result, &error))
    g_printerr ("Cannot stop the benchmark VM: %s\n", error->message);
  qemu_pid = 0;

  /* How fast the guest draws moves with the host's load, and with it how
   * much each client has to show: the ratio per guest frame evens that
   * out. The last line is the plain ratio of CPU time. */
  if (per_frame[0]->len > 0 && per_frame[1]->len > 0)
    g_print ("cpu per guest frame, casement/remote-viewer: %.2f\n",
             median (per_frame[0]) / median (per_frame[1]));
  ours = median (cpu[0]);
  theirs = median (cpu[1]);
  g_print ("cpu ratio casement/remote-viewer: %.2f\n", theirs > 0 ? ours / theirs : 0);

  for (guint i = 0; i < n_clients; i++)
    {
      g_array_unref (cpu[i]);
      g_array_unref (rate[i]);
      g_array_unref (xcpu[i]);
      g_array_unref (per_frame[i]);
    }

  return EXIT_SUCCESS;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *client_socket = NULL;
  g_autofree char *renderer = NULL;
  int runs = 3;
  int seconds = 20;
  int warmup = 8;
  gboolean all_paths = FALSE;
  const GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Samples per client (default 3)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Length of each sample (default 20)", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Time to connect before a sample (default 8)", "S" },
    { "all-paths", 0, 0, G_OPTION_ARG_NONE, &all_paths,
      "Also measure Casement's other ways of drawing: the X11 path with a mirror of the frame, "
      "GTK's cairo renderer without the X11 path, and GTK's own renderer choice", NULL },
    { "client", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &client_socket, NULL, NULL },
    { "renderer", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &renderer, NULL, NULL },
    { NULL }
  };

  context = g_option_context_new ("- CPU cost of Casement's display against remote-viewer");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }

  if (client_socket != NULL)
    {
      if (!gtk_init_check ())
        {
          g_printerr ("No display: run the benchmark under an X server (build-aux/bench does).\n");
          return EXIT_FAILURE;
        }
      return run_client (client_socket, renderer);
    }

  if (runs < 1 || seconds < 1 || warmup < 0)
    {
      g_printerr ("--runs and --seconds must be at least 1, --warmup not negative.\n");
      return EXIT_FAILURE;
    }

  return run_benchmark (argv[0], runs, seconds, warmup, all_paths);
}
