/* casement-test-util.c
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

#define G_LOG_DOMAIN "casement-test-util"

#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "casement-test-util.h"

/* ---- Waiting ------------------------------------------------------------ */

static gboolean
flag_set_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
casement_test_spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, flag_set_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

void
casement_test_store_result_cb (GObject      *object,
                               GAsyncResult *result,
                               gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

GAsyncResult *
casement_test_await_result (GAsyncResult **result,
                            guint          timeout_s,
                            const char    *what)
{
  g_return_val_if_fail (result != NULL, NULL);

  CASEMENT_TEST_WAIT_UNTIL (*result != NULL, timeout_s, what);
  return *result;
}

gboolean
casement_test_wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* ---- Processes ---------------------------------------------------------- */

gboolean
casement_test_pid_alive (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *contents = NULL;
  const char *state;
  const char *threads;

  if (pid <= 0 || !g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;

  state = strstr (contents, "State:");
  threads = strstr (contents, "Threads:");
  g_assert_nonnull (state);
  g_assert_nonnull (threads);
  state += strlen ("State:");
  while (*state == '\t' || *state == ' ')
    state++;

  return (*state != 'Z' && *state != 'X') ||
         g_ascii_strtoull (threads + strlen ("Threads:"), NULL, 10) > 1;
}

void
casement_test_wait_pid_gone (GPid  pid,
                             guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (casement_test_pid_alive (pid) && g_get_monotonic_time () < deadline)
    casement_test_spin (50);

  g_assert_false (casement_test_pid_alive (pid));
}

GArray *
casement_test_find_processes (const char *needle)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (GPid));
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  g_return_val_if_fail (needle != NULL && *needle != '\0', pids);

  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)))
    {
      g_autofree char *path = NULL;
      g_autofree char *cmdline = NULL;
      gsize len = 0;
      GPid pid;

      if (!g_ascii_isdigit (name[0]))
        continue;

      pid = (GPid) g_ascii_strtoll (name, NULL, 10);
      path = g_strdup_printf ("/proc/%s/cmdline", name);
      if (pid == getpid () || !casement_test_pid_alive (pid) ||
          !g_file_get_contents (path, &cmdline, &len, NULL))
        continue;

      for (gsize pos = 0; pos < len; pos += strlen (cmdline + pos) + 1)
        {
          if (strstr (cmdline + pos, needle) != NULL)
            {
              g_array_append_val (pids, pid);
              break;
            }
        }
    }

  return pids;
}

void
casement_test_assert_no_processes (const char *needle,
                                   guint       timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  g_autoptr(GArray) pids = NULL;

  g_return_if_fail (needle != NULL);

  do
    {
      g_clear_pointer (&pids, g_array_unref);
      pids = casement_test_find_processes (needle);
      if (pids->len > 0)
        casement_test_spin (100);
    }
  while (pids->len > 0 && g_get_monotonic_time () < deadline);

  if (pids->len > 0)
    {
      for (guint i = 0; i < pids->len; i++)
        g_test_message ("stray process %d", (int) g_array_index (pids, GPid, i));
      g_error ("%u stray processes, e.g. pid %d", pids->len, (int) g_array_index (pids, GPid, 0));
    }
}

/* What the abort guard kills, kept where a signal handler can read it. */
static char abort_needle[PATH_MAX];

/* The kernel's record for getdents64(2), which glibc 2.36 does not declare. */
struct proc_entry
{
  uint64_t       ino;
  int64_t        off;
  unsigned short reclen;
  unsigned char  type;
  char           name[];
};

/* Runs in signal handlers, so only async-signal-safe calls: open, read,
 * getdents64, kill, close; no allocation, no stdio. */
static void
kill_needle_processes (void)
{
  static char entries[8192];
  static char cmdline[64 * 1024];
  size_t needle_len = strlen (abort_needle);
  pid_t self = getpid ();
  int proc;
  long n;

  if (needle_len == 0 ||
      (proc = open ("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return;

  while ((n = syscall (SYS_getdents64, proc, entries, sizeof entries)) > 0)
    {
      for (long at = 0; at < n;)
        {
          struct proc_entry *entry = (struct proc_entry *) (entries + at);
          char path[64] = "/proc/";
          size_t path_len = strlen (path);
          size_t name_len = strlen (entry->name);
          size_t len = 0;
          pid_t pid = 0;
          int fd;

          at += entry->reclen;

          for (size_t i = 0; i < name_len && entry->name[i] >= '0' && entry->name[i] <= '9'; i++)
            pid = pid * 10 + (entry->name[i] - '0');
          if (pid <= 0 || pid == self || name_len > 20)
            continue;

          memcpy (path + path_len, entry->name, name_len);
          memcpy (path + path_len + name_len, "/cmdline", sizeof "/cmdline");
          if ((fd = open (path, O_RDONLY | O_CLOEXEC)) < 0)
            continue;
          /* /proc hands out a long command line in several reads. */
          while (len < sizeof cmdline)
            {
              ssize_t got = read (fd, cmdline + len, sizeof cmdline - len);

              if (got <= 0)
                break;
              len += got;
            }
          close (fd);

          if (len > 0 && memmem (cmdline, len, abort_needle, needle_len) != NULL)
            kill (pid, SIGKILL);
        }
    }

  close (proc);
}

static void
on_fatal_signal (int sig)
{
  kill_needle_processes ();

  /* SA_RESETHAND restored the default action: die of the same signal. */
  raise (sig);
}

/* A g_error() or fatal warning in a test subprocess ends it with _exit(),
 * not a signal. GLib asks the test's fatal handler about warnings and
 * criticals only; a g_error() passes the log writer alone. */
static gboolean
fatal_log_cb (const char     *log_domain,
              GLogLevelFlags  log_level,
              const char     *message,
              gpointer        user_data)
{
  kill_needle_processes ();

  return TRUE;
}

static GLogWriterOutput
error_log_writer (GLogLevelFlags   log_level,
                  const GLogField *fields,
                  gsize            n_fields,
                  gpointer         user_data)
{
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_FLAG_FATAL))
    kill_needle_processes ();

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

void
casement_test_kill_on_abort (const char *needle)
{
  static const int signals[] = { SIGABRT, SIGTRAP, SIGTERM, SIGINT, SIGSEGV, SIGBUS, SIGFPE };
  static gsize writer_set;
  struct sigaction action = { 0 };

  g_return_if_fail (needle != NULL && *needle != '\0');
  g_return_if_fail (strlen (needle) < sizeof abort_needle);

  g_strlcpy (abort_needle, needle, sizeof abort_needle);

  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset (&action.sa_mask);
  for (gsize i = 0; i < G_N_ELEMENTS (signals); i++)
    g_assert_cmpint (sigaction (signals[i], &action, NULL), ==, 0);

  g_test_log_set_fatal_handler (fatal_log_cb, NULL);
  /* GLib takes one writer per process, for good. */
  if (g_once_init_enter (&writer_set))
    {
      g_log_set_writer_func (error_log_writer, NULL, NULL);
      g_once_init_leave (&writer_set, 1);
    }
}

void
casement_test_kill_strays (void)
{
  kill_needle_processes ();
}

/* ---- Files ------------------------------------------------------------- */

void
casement_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_return_if_fail (path != NULL);

  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) || !(dir = g_dir_open (path, 0, NULL)))
    {
      g_remove (path);
      return;
    }

  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      casement_test_remove_tree (child);
    }

  g_rmdir (path);
}

/* ---- The display -------------------------------------------------------- */

/* Our Xvfb goes with us, even when a failed test aborts. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

gboolean
casement_test_ensure_display (const char   *screen,
                              GSubprocess **xvfb)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *xvfb_path = NULL;
  g_autofree char *display = NULL;
  char number[16] = { 0 };
  gsize len = 0;
  int fds[2];

  g_return_val_if_fail (screen != NULL, FALSE);
  g_return_val_if_fail (xvfb != NULL, FALSE);

  if (g_getenv ("DISPLAY") != NULL || *xvfb != NULL)
    return TRUE;

  if (!(xvfb_path = g_find_program_in_path ("Xvfb")))
    return FALSE;

  /* Xvfb writes its display number to -displayfd once it is ready. */
  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, &error));
  g_assert_no_error (error);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  *xvfb = g_subprocess_launcher_spawn (launcher, &error, xvfb_path, "-displayfd", "3",
                                       "-nolisten", "tcp", "-screen", "0", screen, NULL);
  g_assert_no_error (error);
  /* Our copy of the pipe's write end goes, so a dying Xvfb ends the read. */
  g_clear_object (&launcher);

  while (len < sizeof number - 1)
    {
      gssize n = read (fds[0], number + len, 1);

      if (n <= 0 || number[len] == '\n')
        break;
      len++;
    }
  close (fds[0]);
  number[len] = '\0';
  g_assert_cmpuint (len, >, 0);

  display = g_strdup_printf (":%s", number);
  g_setenv ("DISPLAY", display, TRUE);
  g_test_message ("Started Xvfb on %s", display);

  return TRUE;
}

void
casement_test_stop_display (GSubprocess **xvfb)
{
  g_return_if_fail (xvfb != NULL);

  if (*xvfb == NULL)
    return;

  g_subprocess_send_signal (*xvfb, SIGTERM);
  g_subprocess_wait (*xvfb, NULL, NULL);
  g_clear_object (xvfb);
}
