/* test-qemu-command.c
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

#include "config.h"

#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

#include "casement-host.h"
#include "casement-qemu-command.h"
#include "casement-util.h"
#include "casement-vm-config.h"

/* Each case is tests/data/argv/<name>.json: a host from tests/data/host,
 * a vm.json and, unless it expects an error, the golden argv in
 * <name>.args, one argument per line. Paths in a case start at @HOME@;
 * in the golden files the VM and runtime folders read @VM_DIR@ and
 * @RUNTIME_DIR@, replaced in their escaped form only, so a folder with
 * a comma that reaches QEMU unescaped stays visible there.
 * CASEMENT_UPDATE_GOLDEN=1 rewrites the golden files. */

#define GOLDEN_HOME        "/home/tester"
#define GOLDEN_RUNTIME_DIR "/run/user/1000/casement/5f3a9c1e"
#define LIVE_HOST          "tcg-qemu-7.2"

static const char *cases[] = {
  "win11-intel-kvm-qemu-7.2",
  "win11-amd-kvm-qemu-9.0",
  "win11-tcg",
  "win10-no-tpm-sb",
  "linux-kernel-boot",
  "linux-kernel-with-cd",
  "share-virtiofs",
  "share-smb",
  "share-webdav",
  "share-auto-bare",
  "no-network",
  "port-forwards",
  "unusual-paths",
  "error-no-firmware",
  "error-no-swtpm",
  "error-socket-path-too-long",
  "error-virtiofs-missing",
  "error-smb-read-only",
  "error-smb-no-network",
};

typedef struct
{
  char *host;
  char *vm_dir;
  char *runtime_dir;
  char *error;
  char *error_mentions;
  char *config;
} ArgvCase;

static void
argv_case_free (ArgvCase *self)
{
  g_free (self->host);
  g_free (self->vm_dir);
  g_free (self->runtime_dir);
  g_free (self->error);
  g_free (self->error_mentions);
  g_free (self->config);
  g_free (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ArgvCase, argv_case_free)

static char *
replace_all (const char *text,
             const char *from,
             const char *to)
{
  g_auto(GStrv) parts = g_strsplit (text, from, -1);

  return g_strjoinv (to, parts);
}

static char *
dup_member (JsonObject *object,
            const char *name)
{
  const char *value = json_object_get_string_member_with_default (object, name, NULL);

  return g_strdup (value);
}

static ArgvCase *
argv_case_load (const char *name,
                const char *home)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "argv", file, NULL);
  g_autofree char *text = NULL;
  g_autofree char *homed = NULL;
  g_autofree char *slug = NULL;
  ArgvCase *self = g_new0 (ArgvCase, 1);
  JsonObject *root;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  homed = replace_all (text, "@HOME@", home);
  json_parser_load_from_data (parser, homed, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));

  self->host = dup_member (root, "host");
  self->error = dup_member (root, "error");
  self->error_mentions = dup_member (root, "error-mentions");
  self->runtime_dir = dup_member (root, "runtime-dir");
  self->vm_dir = dup_member (root, "vm-dir");
  slug = dup_member (root, "slug");
  if (self->vm_dir == NULL)
    self->vm_dir = g_build_filename (home, ".local", "share", "casement", "vms", slug, NULL);

  json_generator_set_root (generator, json_object_get_member (root, "config"));
  self->config = json_generator_to_data (generator, NULL);

  g_assert_nonnull (self->host);

  return self;
}

static CasementHost *
load_host (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "host", file, NULL);
  g_autofree char *json = NULL;
  CasementHost *host;

  g_file_get_contents (path, &json, NULL, &error);
  g_assert_no_error (error);
  host = casement_host_new_from_json (json, &error);
  g_assert_no_error (error);

  return host;
}

static CasementHost *
load_host_edited (const char *name,
                  const char *from,
                  const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "host", file, NULL);
  g_autofree char *json = NULL;
  g_autofree char *edited = NULL;
  CasementHost *host;

  g_file_get_contents (path, &json, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (json, from));
  edited = replace_all (json, from, to);
  host = casement_host_new_from_json (edited, &error);
  g_assert_no_error (error);

  return host;
}

static CasementVmConfig *
argv_case_config (ArgvCase *self)
{
  g_autoptr(GError) error = NULL;
  CasementVmConfig *config;

  config = casement_vm_config_new_from_json (self->config, -1, &error);
  g_assert_no_error (error);

  return config;
}

static const char *
find_option (char       **argv,
             const char  *option,
             const char  *value_prefix)
{
  for (guint i = 1; argv[i] != NULL && argv[i + 1] != NULL; i++)
    {
      if (g_str_equal (argv[i], option) && g_str_has_prefix (argv[i + 1], value_prefix))
        return argv[i + 1];
    }

  return NULL;
}

/* Goldens */

static char *
normalise (char       **argv,
           const char  *vm_dir,
           const char  *runtime_dir)
{
  g_autofree char *e_vm_dir = casement_qemu_escape (vm_dir);
  g_autofree char *e_runtime_dir = casement_qemu_escape (runtime_dir);
  GString *text = g_string_new (NULL);

  for (guint i = 0; argv[i] != NULL; i++)
    {
      g_autofree char *a = replace_all (argv[i], e_vm_dir, "@VM_DIR@");
      g_autofree char *b = replace_all (a, e_runtime_dir, "@RUNTIME_DIR@");
      g_autofree char *c = replace_all (b, GOLDEN_HOME, "@HOME@");

      g_assert_null (strchr (c, '\n'));
      g_string_append_printf (text, "%s\n", c);
    }

  return g_string_free (text, FALSE);
}

static void
test_golden (gconstpointer data)
{
  const char *name = data;
  g_autoptr(ArgvCase) argv_case = argv_case_load (name, GOLDEN_HOME);
  g_autoptr(CasementHost) host = load_host (argv_case->host);
  g_autoptr(CasementVmConfig) config = argv_case_config (argv_case);
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".args", NULL);
  g_autofree char *golden_path = g_test_build_filename (G_TEST_DIST, "data", "argv", file, NULL);
  g_autofree char *actual = NULL;
  g_autofree char *expected = NULL;
  g_auto(GStrv) argv = NULL;
  const char *runtime_dir;

  runtime_dir = argv_case->runtime_dir != NULL ? argv_case->runtime_dir : GOLDEN_RUNTIME_DIR;
  argv = casement_qemu_command_build (config, host, argv_case->vm_dir, runtime_dir, &error);

  if (argv_case->error != NULL)
    {
      int code = g_str_equal (argv_case->error, "missing") ? CASEMENT_QEMU_COMMAND_ERROR_MISSING
               : g_str_equal (argv_case->error, "path") ? CASEMENT_QEMU_COMMAND_ERROR_PATH
               : CASEMENT_QEMU_COMMAND_ERROR_INVALID;

      g_assert_null (argv);
      g_assert_error (error, CASEMENT_QEMU_COMMAND_ERROR, code);
      if (strstr (error->message, argv_case->error_mentions) == NULL)
        g_error ("“%s” does not mention “%s”", error->message, argv_case->error_mentions);
      g_assert_false (g_file_test (golden_path, G_FILE_TEST_EXISTS));
      return;
    }

  g_assert_no_error (error);
  actual = normalise (argv, argv_case->vm_dir, runtime_dir);

  if (g_strcmp0 (g_getenv ("CASEMENT_UPDATE_GOLDEN"), "1") == 0)
    {
      g_file_set_contents (golden_path, actual, -1, &error);
      g_assert_no_error (error);
      g_test_message ("Rewrote %s", golden_path);
      return;
    }

  g_file_get_contents (golden_path, &expected, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (actual, ==, expected);
}

/* Targeted checks */

static void
test_escape (void)
{
  const char *pairs[][2] = {
    { "", "" },
    { "/plain/path", "/plain/path" },
    { "a,b", "a,,b" },
    { ",,", ",,,," },
    { "/home/ü ser/Win 11, 23H2 „x“.iso", "/home/ü ser/Win 11,, 23H2 „x“.iso" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autofree char *escaped = casement_qemu_escape (pairs[i][0]);

      g_assert_cmpstr (escaped, ==, pairs[i][1]);
    }
}

static void
test_hv_flags (void)
{
  g_autoptr(CasementVmConfig) windows = casement_vm_config_new ("W");
  g_autoptr(CasementVmConfig) linux_guest = casement_vm_config_new ("L");
  g_autoptr(CasementHost) qemu70 = load_host_edited ("intel-kvm-qemu-7.2", "\"7.2.22\"", "\"7.0.0\"");
  g_autoptr(CasementHost) no_avic = load_host_edited ("amd-kvm-qemu-9.0", "\"avic\",", "");
  g_autoptr(CasementHost) amd = load_host ("amd-kvm-qemu-9.0");
  g_autoptr(CasementHost) intel = load_host ("intel-kvm-qemu-7.2");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv70 = NULL;
  g_auto(GStrv) argv_no_avic = NULL;
  g_auto(GStrv) argv_amd = NULL;
  g_auto(GStrv) argv_linux = NULL;
  g_auto(GStrv) argv_intel = NULL;
  const char *cpu;

  casement_vm_config_set_os_id (windows, "win10");
  casement_vm_config_set_tpm (windows, FALSE);
  casement_vm_config_set_os_id (linux_guest, "linux");
  casement_vm_config_set_tpm (linux_guest, FALSE);
  casement_vm_config_set_secure_boot (linux_guest, FALSE);

  /* hv_tlbflush_ext and hv_xmm_input came with QEMU 7.1. */
  argv70 = casement_qemu_command_build (windows, qemu70, "/v", "/r", &error);
  g_assert_no_error (error);
  cpu = find_option (argv70, "-cpu", "host,");
  g_assert_nonnull (cpu);
  g_assert_nonnull (strstr (cpu, ",hv_tlbflush,"));
  g_assert_null (strstr (cpu, "hv_tlbflush_ext"));
  g_assert_null (strstr (cpu, "hv_xmm_input"));

  argv_intel = casement_qemu_command_build (windows, intel, "/v", "/r", &error);
  g_assert_no_error (error);
  cpu = find_option (argv_intel, "-cpu", "host,");
  g_assert_nonnull (strstr (cpu, "hv_tlbflush_ext"));
  g_assert_null (strstr (cpu, "hv_avic"));
  g_assert_null (strstr (cpu, "hv_evmcs"));

  argv_amd = casement_qemu_command_build (windows, amd, "/v", "/r", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (find_option (argv_amd, "-cpu", "host,"), ",hv_avic"));

  /* AMD without the avic CPU flag: no hv_avic. */
  argv_no_avic = casement_qemu_command_build (windows, no_avic, "/v", "/r", &error);
  g_assert_no_error (error);
  g_assert_null (strstr (find_option (argv_no_avic, "-cpu", "host,"), "hv_avic"));

  /* KVM, but a Linux guest: no Hyper-V enlightenments. */
  argv_linux = casement_qemu_command_build (linux_guest, amd, "/v", "/r", &error);
  g_assert_no_error (error);
  g_assert_nonnull (find_option (argv_linux, "-cpu", "host"));
  g_assert_null (find_option (argv_linux, "-cpu", "host,"));
  g_assert_nonnull (find_option (argv_linux, "-accel", "kvm"));
}

static void
test_bad_port_forward (void)
{
  const char *bad[] = { "tcp:22", "sctp:1:2", "tcp:0:22", "tcp:70000:22", "tcp:22:x", "tcp::22" };
  g_autoptr(CasementHost) host = load_host (LIVE_HOST);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(CasementVmConfig) config = casement_vm_config_new ("W");
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) argv = NULL;
      const char *forwards[] = { "tcp:2222:22", bad[i], NULL };

      casement_vm_config_set_port_forwards (config, forwards);
      argv = casement_qemu_command_build (config, host, "/v", "/r", &error);
      g_assert_null (argv);
      g_assert_error (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, bad[i]));
    }
}

static void
test_resolve_share (void)
{
  g_autoptr(CasementHost) tcg = load_host ("tcg-qemu-7.2");
  g_autoptr(CasementHost) intel = load_host ("intel-kvm-qemu-7.2");
  g_autoptr(CasementHost) amd = load_host ("amd-kvm-qemu-9.0");
  g_autoptr(CasementHost) bare = load_host ("bare-qemu-7.2");
  g_autoptr(CasementVmConfig) config = casement_vm_config_new ("W");
  char *reason = NULL;

  /* Nothing to share. */
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_AUTO);
  g_assert_cmpint (casement_qemu_command_resolve_share (config, amd, &reason), ==, CASEMENT_SHARE_METHOD_NONE);
  g_assert_null (reason);

  casement_vm_config_set_share_folder (config, "/home/tester/Public");

  g_assert_cmpint (casement_qemu_command_resolve_share (config, amd, &reason), ==, CASEMENT_SHARE_METHOD_VIRTIOFS);
  g_assert_nonnull (strstr (reason, "/usr/libexec/virtiofsd can run without root"));
  g_clear_pointer (&reason, g_free);

  /* This machine: the C helper, and we are root. */
  g_assert_cmpint (casement_qemu_command_resolve_share (config, tcg, &reason), ==, CASEMENT_SHARE_METHOD_VIRTIOFS);
  g_assert_nonnull (strstr (reason, "Casement runs as root"));
  g_clear_pointer (&reason, g_free);

  g_assert_cmpint (casement_qemu_command_resolve_share (config, intel, &reason), ==, CASEMENT_SHARE_METHOD_SMB);
  g_assert_nonnull (strstr (reason, "\\\\10.0.2.4\\qemu"));
  g_assert_nonnull (strstr (reason, "only runs as root"));
  g_clear_pointer (&reason, g_free);

  g_assert_cmpint (casement_qemu_command_resolve_share (config, bare, &reason), ==, CASEMENT_SHARE_METHOD_WEBDAV);
  g_assert_nonnull (strstr (reason, "virtiofsd is not installed, and smbd is not installed"));
  g_clear_pointer (&reason, g_free);

  /* SMB would write to a read-only share, and needs the network. */
  casement_vm_config_set_share_read_only (config, TRUE);
  g_assert_cmpint (casement_qemu_command_resolve_share (config, intel, &reason), ==, CASEMENT_SHARE_METHOD_WEBDAV);
  g_assert_nonnull (strstr (reason, "read-only"));
  g_clear_pointer (&reason, g_free);
  casement_vm_config_set_share_read_only (config, FALSE);
  casement_vm_config_set_network (config, CASEMENT_NETWORK_NONE);
  g_assert_cmpint (casement_qemu_command_resolve_share (config, intel, &reason), ==, CASEMENT_SHARE_METHOD_WEBDAV);
  g_assert_nonnull (strstr (reason, "network"));
  g_clear_pointer (&reason, g_free);

  /* A method the user picked stands, without a reason. */
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_WEBDAV);
  g_assert_cmpint (casement_qemu_command_resolve_share (config, amd, &reason), ==, CASEMENT_SHARE_METHOD_WEBDAV);
  g_assert_null (reason);
  g_assert_cmpint (casement_qemu_command_resolve_share (config, amd, NULL), ==, CASEMENT_SHARE_METHOD_WEBDAV);
}

/* Acceptance: the real QEMU takes the argv built on the live probe. */

static void
mkdir_or_die (const char *path)
{
  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
}

static void
write_file (const char *path,
            const void *data,
            gsize       length)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);

  mkdir_or_die (dir);
  g_file_set_contents (path, data, length, &error);
  g_assert_no_error (error);
}

static void
run_or_die (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (process, NULL, &error);
  g_assert_no_error (error);
}

/* Enough of a bzImage for QEMU to load it at start (-S never runs it):
 * "HdrS" boot protocol 2.15, loaded high, 4 setup sectors. */
static void
write_fake_kernel (const char *path)
{
  guint8 image[8192] = { 0 };

  image[0x1f1] = 3;
  memcpy (image + 0x202, "HdrS", 4);
  image[0x206] = 0x0f;
  image[0x207] = 0x02;
  image[0x211] = 0x01;
  image[0x22c] = 0xff; image[0x22d] = 0xff; image[0x22e] = 0xff; image[0x22f] = 0x7f;
  image[0x239] = 0x08;
  write_file (path, image, sizeof image);
}

static void
write_medium (const char *path)
{
  g_autofree guint8 *zeros = g_malloc0 (64 * 2048);

  write_file (path, zeros, 64 * 2048);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_assert_cmpint (g_unlink (child), ==, 0);
        }
    }

  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static char *
read_log (const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("(no log)");

  return text;
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;

  return G_SOURCE_REMOVE;
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

/* TRUE when @process ended by itself within @seconds; else it is killed. */
static gboolean
wait_exit (GSubprocess *process,
           guint        seconds)
{
  gboolean done = FALSE;
  gboolean timed_out = FALSE;
  guint timeout_id;

  g_subprocess_wait_async (process, NULL, wait_cb, &done);
  timeout_id = g_timeout_add_seconds (seconds, timeout_cb, &timed_out);
  while (!done && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (done)
    {
      g_source_remove (timeout_id);
      return TRUE;
    }

  g_subprocess_force_exit (process);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  return FALSE;
}

/* One acceptance run: the folder it works in and the processes it
 * started. A failure stops them all before it reports, so a broken
 * argv leaves no swtpm or virtiofsd behind. */
typedef struct
{
  char        *tmp;
  char        *qemu_log;
  GSubprocess *qemu;
  GSubprocess *swtpm;
  GSubprocess *virtiofsd;
} Run;

static void
run_stop (GSubprocess **process)
{
  if (*process == NULL)
    return;

  if (g_subprocess_get_identifier (*process) != NULL)
    wait_exit (*process, 0);
  g_clear_object (process);
}

static void
run_clear (Run *run)
{
  run_stop (&run->qemu);
  run_stop (&run->swtpm);
  run_stop (&run->virtiofsd);
  if (run->tmp != NULL)
    remove_tree (run->tmp);
  g_clear_pointer (&run->tmp, g_free);
  g_clear_pointer (&run->qemu_log, g_free);
}

static void run_fail (Run        *run,
                      const char *format,
                      ...) G_GNUC_PRINTF (2, 3) G_GNUC_NORETURN;

static void
run_fail (Run        *run,
          const char *format,
          ...)
{
  g_autofree char *message = NULL;
  g_autofree char *log = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);

  /* Let QEMU finish its complaint before reading it. */
  if (run->qemu != NULL)
    wait_exit (run->qemu, 10);
  log = read_log (run->qemu_log);
  run_clear (run);

  g_error ("%s\nQEMU's stderr:\n%s", message, log);
}

static GSubprocess *
spawn_logged (const char * const *argv,
              const char         *log)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);

  return process;
}

/* Waits for a helper's socket, failing early if the helper dies. */
static void
wait_for_socket (Run         *run,
                 GSubprocess *process,
                 const char  *path,
                 const char  *log)
{
  for (guint i = 0; i < 400; i++)
    {
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return;
      if (g_subprocess_get_identifier (process) == NULL)
        {
          g_autofree char *text = read_log (log);

          run_fail (run, "%s never appeared; its server exited: %s", path, text);
        }
      g_usleep (G_USEC_PER_SEC / 20);
    }

  run_fail (run, "%s never appeared", path);
}

/* The next reply to a command, skipping events. */
static JsonNode *
qmp_read_reply (GDataInputStream  *in,
                GError           **error)
{
  for (;;)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autofree char *line = g_data_input_stream_read_line_utf8 (in, NULL, NULL, error);
      JsonNode *root;
      JsonObject *object;

      if (line == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "QMP connection closed");
          return NULL;
        }

      if (!json_parser_load_from_data (parser, line, -1, error))
        return NULL;

      root = json_parser_get_root (parser);
      object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
      if (object == NULL || json_object_has_member (object, "error"))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "QMP said: %s", line);
          return NULL;
        }
      if (json_object_has_member (object, "return"))
        return json_node_copy (json_object_get_member (object, "return"));
    }
}

static JsonNode *
qmp_execute (GOutputStream     *out,
             GDataInputStream  *in,
             const char        *command,
             GError           **error)
{
  g_autofree char *line = g_strdup_printf ("{\"execute\": \"%s\"}\n", command);

  if (!g_output_stream_write_all (out, line, strlen (line), NULL, NULL, error))
    return NULL;

  return qmp_read_reply (in, error);
}

/* Greeting, capabilities, query-status → "prelaunch", quit. */
static void
qmp_check_prelaunch_and_quit (Run        *run,
                              const char *socket_path)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (socket_path);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) capabilities = NULL;
  g_autoptr(JsonNode) status = NULL;
  g_autoptr(JsonNode) quit = NULL;
  g_autofree char *greeting = NULL;
  const char *state;
  GOutputStream *out;

  for (guint i = 0; connection == NULL; i++)
    {
      g_clear_error (&error);
      connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
      if (connection != NULL)
        break;

      if (g_subprocess_get_identifier (run->qemu) == NULL)
        run_fail (run, "QEMU exited before its QMP socket answered (%s)", error->message);
      if (i > 600)
        run_fail (run, "QEMU's QMP socket did not answer in 30 s (%s)", error->message);
      g_usleep (G_USEC_PER_SEC / 20);
    }

  /* No reply within a minute is a hang, not slowness. */
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 60);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  /* QEMU opens its monitors before it makes the devices: a bad device
   * shows up as a connection that closes here. */
  greeting = g_data_input_stream_read_line_utf8 (in, NULL, NULL, &error);
  if (greeting == NULL || strstr (greeting, "\"QMP\"") == NULL)
    run_fail (run, "No QMP greeting: %s", error != NULL ? error->message : greeting);

  if (!(capabilities = qmp_execute (out, in, "qmp_capabilities", &error)) ||
      !(status = qmp_execute (out, in, "query-status", &error)))
    run_fail (run, "QMP failed: %s", error->message);

  state = json_object_get_string_member_with_default (json_node_get_object (status), "status", "");
  if (!g_str_equal (state, "prelaunch"))
    run_fail (run, "QEMU is “%s”, not “prelaunch”", state);

  if (!(quit = qmp_execute (out, in, "quit", &error)))
    run_fail (run, "QMP quit failed: %s", error->message);
}

static void
test_acceptance (gconstpointer data)
{
  const char *name = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) host = NULL;
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(ArgvCase) argv_case = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *home = NULL;
  g_autofree char *runtime_dir = NULL;
  g_autofree char *efivars = NULL;
  g_autofree char *qmp = NULL;
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) argv_s = NULL;
  Run run = { NULL };
  const char *path;
  CasementShareMethod share;

  host = casement_host_probe (NULL, &error);
  g_assert_no_error (error);

  /* Real paths, short enough for sockets; the '=' in the runtime folder
   * proves every socket path reaches QEMU behind its key. */
  run.tmp = g_dir_make_tmp ("casement-argv-XXXXXX", &error);
  g_assert_no_error (error);
  run.qemu_log = g_build_filename (run.tmp, "qemu.log", NULL);
  home = g_build_filename (run.tmp, "home", NULL);
  runtime_dir = g_build_filename (run.tmp, "r=t", NULL);
  mkdir_or_die (runtime_dir);

  argv_case = argv_case_load (name, home);
  config = argv_case_config (argv_case);
  mkdir_or_die (argv_case->vm_dir);

  share = casement_qemu_command_resolve_share (config, host, NULL);
  if (share == CASEMENT_SHARE_METHOD_VIRTIOFS && !casement_host_get_virtiofsd_usable (host))
    {
      g_test_skip ("No virtiofsd that can run here (QEMU 7.2's C helper needs root)");
      run_clear (&run);
      return;
    }

  argv = casement_qemu_command_build (config, host, argv_case->vm_dir, runtime_dir, &error);
  g_assert_no_error (error);

  /* What the VM supervisor prepares before QEMU starts. */
  efivars = g_build_filename (argv_case->vm_dir, CASEMENT_VM_EFIVARS_FILE, NULL);
  run_or_die ((const char * const []) {
    casement_host_get_qemu_img_path (host), "convert", "-f", "raw", "-O", "qcow2",
    casement_host_get_firmware_vars (host, casement_vm_config_get_secure_boot (config)), efivars, NULL });

  if ((path = casement_vm_config_get_disk_path (config)) != NULL)
    {
      g_autofree char *disk = g_path_is_absolute (path) ? g_strdup (path)
                                                        : g_build_filename (argv_case->vm_dir, path, NULL);
      g_autofree char *disk_dir = g_path_get_dirname (disk);

      mkdir_or_die (disk_dir);
      run_or_die ((const char * const []) {
        casement_host_get_qemu_img_path (host), "create", "-q", "-f", "qcow2", disk, "64M", NULL });
    }

  if ((path = casement_vm_config_get_install_iso (config)) != NULL)
    write_medium (path);
  if ((path = casement_vm_config_get_drivers_iso (config)) != NULL)
    write_medium (path);
  if ((path = casement_vm_config_get_unattend_media (config)) != NULL)
    {
      g_autofree char *unattend = g_build_filename (argv_case->vm_dir, path, NULL);

      write_medium (unattend);
    }
  if ((path = casement_vm_config_get_kernel (config)) != NULL)
    write_fake_kernel (path);
  if ((path = casement_vm_config_get_initrd (config)) != NULL)
    write_medium (path);
  if ((path = casement_vm_config_get_share_folder (config)) != NULL)
    mkdir_or_die (path);

  if (casement_vm_config_get_tpm (config))
    {
      g_autofree char *state = g_build_filename (run.tmp, "tpm-state", NULL);
      g_autofree char *state_arg = g_strconcat ("dir=", state, NULL);
      g_autofree char *socket_path = g_build_filename (runtime_dir, CASEMENT_RUNTIME_SWTPM_SOCKET, NULL);
      g_autofree char *ctrl_arg = g_strconcat ("type=unixio,path=", socket_path, NULL);
      g_autofree char *log = g_build_filename (run.tmp, "swtpm.log", NULL);

      mkdir_or_die (state);
      run.swtpm = spawn_logged ((const char * const []) {
        casement_host_get_swtpm_path (host), "socket", "--tpm2", "--tpmstate", state_arg,
        "--ctrl", ctrl_arg, "--terminate", NULL }, log);
      wait_for_socket (&run, run.swtpm, socket_path, log);
    }

  if (share == CASEMENT_SHARE_METHOD_VIRTIOFS)
    {
      g_autofree char *socket_path = g_build_filename (runtime_dir, CASEMENT_RUNTIME_VIRTIOFS_SOCKET, NULL);
      g_autofree char *socket_arg = g_strconcat ("--socket-path=", socket_path, NULL);
      g_autofree char *log = g_build_filename (run.tmp, "virtiofsd.log", NULL);
      const char *folder = casement_vm_config_get_share_folder (config);

      if (casement_host_get_virtiofsd_flavour (host) == CASEMENT_VIRTIOFSD_RUST)
        {
          g_autofree char *dir_arg = g_strconcat ("--shared-dir=", folder, NULL);

          run.virtiofsd = spawn_logged ((const char * const []) {
            casement_host_get_virtiofsd_path (host), socket_arg, dir_arg, "--sandbox", "none", NULL }, log);
        }
      else
        {
          g_autofree char *source_arg = g_strconcat ("source=", folder, NULL);

          run.virtiofsd = spawn_logged ((const char * const []) {
            casement_host_get_virtiofsd_path (host), socket_arg, "-o", source_arg, NULL }, log);
        }
      wait_for_socket (&run, run.virtiofsd, socket_path, log);
    }

  /* The argv as built, plus -S: QEMU stops before the first instruction,
   * after every option has been parsed and every device created. */
  g_strv_builder_addv (builder, (const char **)argv);
  g_strv_builder_add (builder, "-S");
  argv_s = g_strv_builder_end (builder);
  run.qemu = spawn_logged ((const char * const *)argv_s, run.qemu_log);

  qmp = g_build_filename (runtime_dir, CASEMENT_RUNTIME_QMP_SOCKET, NULL);
  qmp_check_prelaunch_and_quit (&run, qmp);

  if (!wait_exit (run.qemu, 30))
    run_fail (&run, "QEMU did not quit when asked");
  if (!g_subprocess_get_if_exited (run.qemu) || g_subprocess_get_exit_status (run.qemu) != 0)
    run_fail (&run, "QEMU ended badly after quit");

  /* swtpm --terminate and virtiofsd end with their QEMU connection. */
  if (run.swtpm != NULL && !wait_exit (run.swtpm, 10))
    run_fail (&run, "swtpm did not end with QEMU");
  if (run.virtiofsd != NULL && !wait_exit (run.virtiofsd, 10))
    run_fail (&run, "virtiofsd did not end with QEMU");

  run_clear (&run);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Casement/QemuCommand/escape", test_escape);
  g_test_add_func ("/Casement/QemuCommand/hv-flags", test_hv_flags);
  g_test_add_func ("/Casement/QemuCommand/bad-port-forward", test_bad_port_forward);
  g_test_add_func ("/Casement/QemuCommand/resolve-share", test_resolve_share);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *golden = g_strconcat ("/Casement/QemuCommand/golden/", cases[i], NULL);
      g_autoptr(ArgvCase) argv_case = argv_case_load (cases[i], GOLDEN_HOME);

      g_test_add_data_func (golden, cases[i], test_golden);

      /* Built on the live probe and run, when the case's host is this
       * machine's kind (KVM unusable, QEMU 7.2). */
      if (g_str_equal (argv_case->host, LIVE_HOST) && argv_case->error == NULL)
        {
          g_autofree char *acceptance = g_strconcat ("/Casement/QemuCommand/acceptance/", cases[i], NULL);

          g_test_add_data_func (acceptance, cases[i], test_acceptance);
        }
    }

  return g_test_run ();
}
