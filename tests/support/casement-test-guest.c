/* casement-test-guest.c
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

#define G_LOG_DOMAIN "casement-test-guest"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "casement-test-guest.h"

#define GUEST_CPUS        1
#define GUEST_MEMORY_MIB  512
#define GUEST_DISK_SIZE   (G_GUINT64_CONSTANT (64) << 20)

/* Often enough that a test reacts within a frame or two of the guest, rare
 * enough to cost nothing next to a TCG guest. */
#define SERIAL_POLL_MS    50

/* Log lines quoted in a timeout error. */
#define SERIAL_TAIL_LINES 15

/* Test environments are g_dir_make_tmp (ENV_PREFIX "XXXXXX") folders
 * holding an ENV_OWNER_FILE that names the test process. */
#define ENV_PREFIX        "casement-test-"
#define ENV_OWNER_FILE    "owner"

struct _CasementTestGuestEnv
{
  char *dir;
};

/* The builder's answer, kept for the process's lifetime. */
static char *guest_kernel;
static char *guest_initrd;
static GError *guest_error;

G_DEFINE_QUARK (casement-test-guest-error-quark, casement_test_guest_error)

static gboolean
run_builder (GError **error)
{
  g_autoptr(GSubprocess) builder = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_lines;

  builder = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                              error, TEST_GUEST_BUILDER, NULL);
  if (builder == NULL)
    return FALSE;

  if (!g_subprocess_communicate_utf8 (builder, NULL, NULL, &out, &err, error))
    return FALSE;

  if (!g_subprocess_get_if_exited (builder) || g_subprocess_get_exit_status (builder) != 0)
    {
      g_set_error (error, CASEMENT_TEST_GUEST_ERROR, CASEMENT_TEST_GUEST_ERROR_BUILD,
                   "%s failed: %s", TEST_GUEST_BUILDER, g_strstrip (err));
      return FALSE;
    }

  /* The builder promises the folder as its last line. */
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  n_lines = g_strv_length (lines);
  if (n_lines > 0)
    dir = g_strdup (lines[n_lines - 1]);

  if (dir == NULL || !g_path_is_absolute (dir))
    {
      g_set_error (error, CASEMENT_TEST_GUEST_ERROR, CASEMENT_TEST_GUEST_ERROR_BUILD,
                   "%s printed no output folder: %s", TEST_GUEST_BUILDER, g_strstrip (err));
      return FALSE;
    }

  kernel = g_build_filename (dir, "vmlinuz", NULL);
  initrd = g_build_filename (dir, "initrd.gz", NULL);
  if (!g_file_test (kernel, G_FILE_TEST_IS_REGULAR) || !g_file_test (initrd, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, CASEMENT_TEST_GUEST_ERROR, CASEMENT_TEST_GUEST_ERROR_BUILD,
                   "%s lacks vmlinuz or initrd.gz; delete it so %s builds it again",
                   dir, TEST_GUEST_BUILDER);
      return FALSE;
    }

  guest_kernel = g_steal_pointer (&kernel);
  guest_initrd = g_steal_pointer (&initrd);

  return TRUE;
}

/**
 * casement_test_guest_ensure:
 * @kernel: (out) (optional): the guest's kernel
 * @initrd: (out) (optional): the guest's initramfs
 * @error: return location for a #GError
 *
 * Returns: %TRUE when the guest is built and its files are in place
 */
gboolean
casement_test_guest_ensure (char   **kernel,
                            char   **initrd,
                            GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (guest_kernel == NULL && guest_error == NULL)
    run_builder (&guest_error);

  if (guest_error != NULL)
    {
      g_propagate_error (error, g_error_copy (guest_error));
      return FALSE;
    }

  if (kernel != NULL)
    *kernel = g_strdup (guest_kernel);
  if (initrd != NULL)
    *initrd = g_strdup (guest_initrd);

  return TRUE;
}

/**
 * casement_test_guest_config_new:
 * @name: the VM's name
 * @mode: "idle", "anim", "pattern" or "cursor"
 * @extra_cmdline: (nullable): more kernel arguments, e.g. "tg.virtiofs=share"
 *
 * Returns: (transfer full): a new config for the test guest
 */
CasementVmConfig *
casement_test_guest_config_new (const char *name,
                                const char *mode,
                                const char *extra_cmdline)
{
  static const char * const modes[] = { "idle", "anim", "pattern", "cursor", NULL };
  g_autoptr(CasementVmConfig) config = NULL;
  g_autofree char *cmdline = NULL;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (mode != NULL && g_strv_contains (modes, mode), NULL);
  g_return_val_if_fail (guest_kernel != NULL, NULL);

  if (extra_cmdline != NULL && extra_cmdline[0] != '\0')
    cmdline = g_strdup_printf ("console=ttyS0 tg.mode=%s %s", mode, extra_cmdline);
  else
    cmdline = g_strdup_printf ("console=ttyS0 tg.mode=%s", mode);

  config = casement_vm_config_new (name);
  casement_vm_config_set_os_id (config, "linux");
  casement_vm_config_set_cpus (config, GUEST_CPUS);
  casement_vm_config_set_memory_mib (config, GUEST_MEMORY_MIB);
  casement_vm_config_set_disk_size (config, GUEST_DISK_SIZE);
  casement_vm_config_set_tpm (config, FALSE);
  casement_vm_config_set_secure_boot (config, FALSE);
  casement_vm_config_set_audio (config, FALSE);
  casement_vm_config_set_network (config, CASEMENT_NETWORK_NONE);
  casement_vm_config_set_express_install (config, FALSE);
  casement_vm_config_set_kernel (config, guest_kernel);
  casement_vm_config_set_initrd (config, guest_initrd);
  casement_vm_config_set_kernel_cmdline (config, cmdline);

  return g_steal_pointer (&config);
}

static gboolean
poll_elapsed_cb (gpointer user_data)
{
  gboolean *elapsed = user_data;

  *elapsed = TRUE;

  return G_SOURCE_REMOVE;
}

/* Appends what was added to @path since @offset to @pending. A file that
 * shrank was started afresh (QEMU truncates it at each start): read it
 * from the top again. */
static void
read_new_bytes (const char *path,
                goffset    *offset,
                GString    *pending)
{
  struct stat st;
  char buf[4096];
  int fd;

  g_assert (path != NULL);
  g_assert (offset != NULL);
  g_assert (pending != NULL);

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return;

  if (fstat (fd, &st) == 0 && st.st_size < *offset)
    {
      *offset = 0;
      g_string_truncate (pending, 0);
    }

  if (lseek (fd, *offset, SEEK_SET) == *offset)
    {
      gssize n;

      while ((n = read (fd, buf, sizeof buf)) > 0)
        {
          g_string_append_len (pending, buf, n);
          *offset += n;
        }
    }

  g_close (fd, NULL);
}

static void
remember_line (GPtrArray  *tail,
               const char *line)
{
  g_assert (tail != NULL);
  g_assert (line != NULL);

  if (line[0] == '\0')
    return;

  g_ptr_array_add (tail, g_strdup (line));
  if (tail->len > SERIAL_TAIL_LINES)
    g_ptr_array_remove_index (tail, 0);
}

static gboolean
wait_for_line (GMainContext  *context,
               const char    *path,
               GRegex        *regex,
               guint          timeout_ms,
               char         **matched_line,
               GError       **error)
{
  g_autoptr(GString) pending = NULL;
  g_autoptr(GString) quoted = NULL;
  g_autoptr(GPtrArray) tail = NULL;
  gint64 deadline;
  goffset offset = 0;

  g_assert (context != NULL);
  g_assert (path != NULL);
  g_assert (regex != NULL);

  pending = g_string_new (NULL);
  tail = g_ptr_array_new_with_free_func (g_free);
  deadline = g_get_monotonic_time () + (gint64) timeout_ms * G_TIME_SPAN_MILLISECOND;

  for (;;)
    {
      g_autoptr(GSource) source = NULL;
      gboolean elapsed = FALSE;
      gsize consumed = 0;
      const char *nl;

      read_new_bytes (path, &offset, pending);

      /* Only whole lines: the guest may be halfway through writing one. */
      while ((nl = memchr (pending->str + consumed, '\n', pending->len - consumed)) != NULL)
        {
          g_autofree char *line = g_strndup (pending->str + consumed, nl - (pending->str + consumed));
          gsize len = strlen (line);

          consumed = nl + 1 - pending->str;

          while (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';

          if (g_regex_match (regex, line, 0, NULL))
            {
              if (matched_line != NULL)
                *matched_line = g_steal_pointer (&line);
              return TRUE;
            }

          remember_line (tail, line);
        }
      g_string_erase (pending, 0, consumed);

      if (g_get_monotonic_time () >= deadline)
        break;

      source = g_timeout_source_new (SERIAL_POLL_MS);
      g_source_set_callback (source, poll_elapsed_cb, &elapsed, NULL);
      g_source_attach (source, context);
      while (!elapsed)
        g_main_context_iteration (context, TRUE);
      g_source_destroy (source);
    }

  quoted = g_string_new (NULL);
  for (guint i = 0; i < tail->len; i++)
    g_string_append_printf (quoted, "\n  %s", (const char *) g_ptr_array_index (tail, i));
  if (pending->len > 0)
    g_string_append_printf (quoted, "\n  %s (unfinished line)", pending->str);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               "No line matching '%s' in %s after %u ms; its last lines:%s",
               g_regex_get_pattern (regex), path, timeout_ms,
               quoted->len > 0 ? quoted->str : " (none: the file is empty or missing)");

  return FALSE;
}

/**
 * casement_test_guest_wait_serial:
 * @serial_log_path: the guest's serial log (CASEMENT_VM_SERIAL_LOG in its VM folder)
 * @needle_regex: a regular expression for one line
 * @timeout_ms: how long to wait
 * @matched_line: (out) (optional): the first matching line
 * @error: return location for a #GError
 *
 * Returns: %TRUE when a line matched in time
 */
gboolean
casement_test_guest_wait_serial (const char  *serial_log_path,
                                 const char  *needle_regex,
                                 guint        timeout_ms,
                                 char       **matched_line,
                                 GError     **error)
{
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GRegex) regex = NULL;
  gboolean ret;

  g_return_val_if_fail (serial_log_path != NULL, FALSE);
  g_return_val_if_fail (needle_regex != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Raw: the log also carries firmware escape codes and whatever bytes
   * the guest sends, which need not be UTF-8. */
  regex = g_regex_new (needle_regex, G_REGEX_RAW | G_REGEX_OPTIMIZE, 0, error);
  if (regex == NULL)
    return FALSE;

  /* The poll timer must fire here: were another thread running the
   * context, the wait would never end. */
  context = g_main_context_ref_thread_default ();
  if (!g_main_context_acquire (context))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "Cannot wait for the serial log: another thread runs this thread's main context");
      return FALSE;
    }

  ret = wait_for_line (context, serial_log_path, regex, timeout_ms, matched_line, error);

  g_main_context_release (context);

  return ret;
}

/* Removes @path and, for a folder, everything below it, without following
 * symbolic links and without descending into another file system (a bind
 * or FUSE mount left behind by a test stays untouched). */
static gboolean
remove_tree (const char *path,
             dev_t       device)
{
  struct stat st;

  g_assert (path != NULL);

  if (g_lstat (path, &st) != 0)
    return errno == ENOENT;

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = NULL;
      const char *name;
      gboolean ok = TRUE;

      if (st.st_dev != device)
        {
          g_warning ("Not removing %s: another file system is mounted there", path);
          return FALSE;
        }

      dir = g_dir_open (path, 0, NULL);
      if (dir == NULL)
        return FALSE;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          ok &= remove_tree (child, device);
        }

      if (!ok)
        return FALSE;
    }

  if (g_remove (path) != 0)
    {
      int errsv = errno;

      g_warning ("Cannot remove %s: %s", path, g_strerror (errsv));
      return FALSE;
    }

  return TRUE;
}

/* The start time of process @pid (field 22 of /proc/PID/stat), which
 * tells it apart from a later process that got the same id; 0 when no
 * such process runs. */
static guint64
process_start_time (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;

  /* The command name in field 2 may hold spaces and parentheses. */
  after_name = strrchr (contents, ')');
  if (after_name == NULL)
    return 0;

  /* Fields from 3 on: the start time is the 20th of them. */
  fields = g_strsplit (after_name + 2, " ", 21);
  if (g_strv_length (fields) < 20)
    return 0;

  return g_ascii_strtoull (fields[19], NULL, 10);
}

static char *
owner_text (void)
{
  GPid pid = getpid ();

  return g_strdup_printf ("%d %" G_GUINT64_FORMAT "\n", (int) pid, process_start_time (pid));
}

/* A test that fails aborts, and its environment stays behind; the next
 * test program to make one removes those whose process is gone. Folders
 * without an owner file are not ours and stay. */
static void
remove_abandoned_envs (void)
{
  g_autoptr(GDir) tmp = NULL;
  const char *name;

  tmp = g_dir_open (g_get_tmp_dir (), 0, NULL);
  if (tmp == NULL)
    return;

  while ((name = g_dir_read_name (tmp)) != NULL)
    {
      g_autofree char *dir = NULL;
      g_autofree char *owner = NULL;
      g_autofree char *contents = NULL;
      struct stat st;
      guint64 start_time = 0;
      int pid = 0;

      if (!g_str_has_prefix (name, ENV_PREFIX) || strlen (name) != strlen (ENV_PREFIX "XXXXXX"))
        continue;

      dir = g_build_filename (g_get_tmp_dir (), name, NULL);
      owner = g_build_filename (dir, ENV_OWNER_FILE, NULL);

      if (g_lstat (dir, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != getuid ())
        continue;

      if (!g_file_get_contents (owner, &contents, NULL, NULL) ||
          sscanf (contents, "%d %" G_GUINT64_FORMAT, &pid, &start_time) != 2 ||
          pid <= 0)
        continue;

      if (process_start_time (pid) == start_time)
        continue;

      g_debug ("Removing %s, left behind by process %d", dir, pid);
      remove_tree (dir, st.st_dev);
    }
}

/**
 * casement_test_guest_env_new:
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the environment, or %NULL
 */
CasementTestGuestEnv *
casement_test_guest_env_new (GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *data_home = NULL;
  g_autofree char *runtime_dir = NULL;
  g_autofree char *owner = NULL;
  g_autofree char *owner_contents = NULL;
  CasementTestGuestEnv *env;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  remove_abandoned_envs ();

  dir = g_dir_make_tmp (ENV_PREFIX "XXXXXX", error);
  if (dir == NULL)
    return NULL;

  env = g_new0 (CasementTestGuestEnv, 1);
  env->dir = g_steal_pointer (&dir);

  data_home = g_build_filename (env->dir, "data", NULL);
  runtime_dir = g_build_filename (env->dir, "run", NULL);
  owner = g_build_filename (env->dir, ENV_OWNER_FILE, NULL);
  owner_contents = owner_text ();

  if (!g_file_set_contents (owner, owner_contents, -1, error))
    {
      casement_test_guest_env_free (env);
      return NULL;
    }

  if (g_mkdir (data_home, 0700) != 0 || g_mkdir (runtime_dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, CASEMENT_TEST_GUEST_ERROR, CASEMENT_TEST_GUEST_ERROR_ENVIRONMENT,
                   "Cannot create the test's XDG folders in %s: %s", env->dir, g_strerror (errsv));
      casement_test_guest_env_free (env);
      return NULL;
    }

  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("XDG_RUNTIME_DIR", runtime_dir, TRUE);

  /* GLib keeps the first value it read: if something asked before us, the
   * process would go on using the real folders. */
  if (g_strcmp0 (g_get_user_data_dir (), data_home) != 0 ||
      g_strcmp0 (g_get_user_runtime_dir (), runtime_dir) != 0)
    {
      g_set_error (error, CASEMENT_TEST_GUEST_ERROR, CASEMENT_TEST_GUEST_ERROR_ENVIRONMENT,
                   "GLib read the XDG folders before the test environment was made "
                   "(data folder %s); make it once, first thing in main()",
                   g_get_user_data_dir ());
      casement_test_guest_env_free (env);
      return NULL;
    }

  return env;
}

const char *
casement_test_guest_env_get_dir (CasementTestGuestEnv *env)
{
  g_return_val_if_fail (env != NULL, NULL);

  return env->dir;
}

void
casement_test_guest_env_free (CasementTestGuestEnv *env)
{
  struct stat st;

  g_return_if_fail (env != NULL);

  /* env->dir came from g_dir_make_tmp() above, never from a caller, so
   * the recursive removal cannot reach anything else. */
  if (g_lstat (env->dir, &st) == 0)
    remove_tree (env->dir, st.st_dev);

  g_free (env->dir);
  g_free (env);
}
