/* test-sharing.c
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

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "casement-qemu-command.h"
#include "casement-test-guest.h"
#include "casement-test-util.h"
#include "casement-test-vm.h"
#include "casement-vm.h"

/* Guest boot under TCG takes seconds; a loaded 2-core host may need more. */
#define BOOT_TIMEOUT_S  120
#define STEP_TIMEOUT_S  60
/* The guest's side of the benchmark runs under TCG. */
#define BENCH_TIMEOUT_S 600
#define BENCH_MIB       256
#define MIB             (1024 * 1024)

/* The tag casement_qemu_command_build() gives the virtiofs share. */
#define SHARE_TAG       "casement"

/* Names a share must carry across unharmed: spaces, a comma (QEMU's and
 * FUSE's option separator) and more than ASCII. */
#define HOST_FILE_NAME  "Ünïcödé name, with spaces ✓.txt"
#define HOST_FILE_TEXT  "written on the host ✓"
#define GUEST_FILE_NAME "Gäst wrote, this ✓.txt"
#define GUEST_FILE_TEXT "written by the guest ✓"

/* Set in the copy of this program that runs as another user (see
 * test_sharing_unprivileged). */
#define CHILD_ENV       "CASEMENT_TEST_SHARING_AS_USER"

static CasementHost *host;
static char *guest_kernel;
static char *guest_initrd;

static char *
qmp_status (CasementVm *vm)
{
  g_autoptr(JsonNode) reply = casement_test_vm_qmp (vm, "query-status", STEP_TIMEOUT_S);

  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply));
  return g_strdup (json_object_get_string_member (json_node_get_object (reply), "status"));
}

/* ------------------------------------------------------------------ */
/* VMs of the test guest                                               */
/* ------------------------------------------------------------------ */

typedef struct
{
  const char          *cmdline_extra;
  const char          *share_folder;
  CasementShareMethod  share_method;
  gboolean             read_only;
  gboolean             network;
  guint64              memory_mib;
} VmOptions;

static char *
create_vm (CasementVmStore  *store,
           const char       *name,
           const VmOptions  *options)
{
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *slug;

  config = casement_test_guest_config_new (name, "idle", options->cmdline_extra);
  casement_vm_config_set_share_folder (config, options->share_folder);
  casement_vm_config_set_share_method (config, options->share_method);
  casement_vm_config_set_share_read_only (config, options->read_only);
  if (options->network)
    casement_vm_config_set_network (config, CASEMENT_NETWORK_USER);
  if (options->memory_mib != 0)
    casement_vm_config_set_memory_mib (config, options->memory_mib);

  casement_vm_store_create_async (store, config, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "VM creation");
  slug = casement_vm_store_create_finish (store, result, &error);
  g_assert_no_error (error);

  return slug;
}

/* Whether the guest reported @line (whole, after "TG: ") at all. */
static gboolean
serial_has_line (CasementVm *vm,
                 const char *line)
{
  g_autofree char *serial = casement_test_vm_file (vm, CASEMENT_VM_SERIAL_LOG);
  g_autofree char *contents = NULL;
  g_autofree char *needle = g_strdup_printf ("TG: %s\n", line);
  g_autofree char *needle_cr = g_strdup_printf ("TG: %s\r\n", line);

  g_assert_true (g_file_get_contents (serial, &contents, NULL, NULL));
  return strstr (contents, needle) != NULL || strstr (contents, needle_cr) != NULL;
}

static GPid
read_pid (const char *path)
{
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return (GPid) g_ascii_strtoll (text, NULL, 10);
}

/* A fresh share folder under the test's data folder, its path with a
 * comma and more than ASCII too. */
static char *
make_share (const char *name)
{
  char *share = g_build_filename (g_get_user_data_dir (), name, NULL);

  casement_test_remove_tree (share);
  g_assert_no_errno (g_mkdir_with_parents (share, 0755));

  return share;
}

static void
write_share_file (const char *share,
                  const char *name,
                  const char *contents)
{
  g_autofree char *path = g_build_filename (share, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static char *
read_share_file (const char *share,
                 const char *name)
{
  g_autofree char *path = g_build_filename (share, name, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;

  return contents;
}

/* The guest's kernel arguments for a VM that mounts the share and runs
 * the script @script from it. */
static char *
share_cmdline (const char *script)
{
  return g_strdup_printf ("tg.virtiofs=" SHARE_TAG " tg.share_test=1 tg.share_run=%s", script);
}

/* A host description of this machine with @member (a top-level string
 * or object) set to null, as if that program were not installed. */
static CasementHost *
host_without (const char *member,
              const char *other_member)
{
  g_autofree char *json = casement_host_to_json (host);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *edited = NULL;
  JsonObject *root;
  CasementHost *result;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  json_object_set_null_member (root, member);
  if (other_member != NULL)
    json_object_set_null_member (root, other_member);

  json_generator_set_root (generator, json_parser_get_root (parser));
  edited = json_generator_to_data (generator, NULL);
  result = casement_host_new_from_json (edited, &error);
  g_assert_no_error (error);

  return result;
}

static gboolean
cmdline_has (GPid        pid,
             const char *needle)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cmdline", (int) pid);
  g_autofree char *cmdline = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &cmdline, &len, NULL));
  for (gsize pos = 0; pos < len; pos += strlen (cmdline + pos) + 1)
    {
      if (strstr (cmdline + pos, needle) != NULL)
        return TRUE;
    }

  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static CasementHost *
load_host_edited (const char *name,
                  const char *from,
                  const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "host", file, NULL);
  g_autofree char *json = NULL;
  g_auto(GStrv) parts = NULL;
  g_autofree char *edited = NULL;
  CasementHost *result;

  g_file_get_contents (path, &json, NULL, &error);
  g_assert_no_error (error);
  parts = g_strsplit (json, from, -1);
  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  edited = g_strjoinv (to, parts);
  result = casement_host_new_from_json (edited, &error);
  g_assert_no_error (error);

  return result;
}

/* What the choice of method says, for QEMU 7.2's C helper without root,
 * with and without user namespaces. */
static void
test_sharing_resolve (void)
{
  g_autoptr(CasementHost) userns = load_host_edited ("tcg-qemu-7.2", "\"root\": true",
                                                     "\"root\": false, \"user-namespaces\": "
                                                     "{ \"usable\": true, \"reason\": null }");
  g_autoptr(CasementHost) no_userns = load_host_edited ("tcg-qemu-7.2", "\"root\": true",
                                                        "\"root\": false, \"user-namespaces\": "
                                                        "{ \"usable\": false, \"reason\": "
                                                        "\"the system forbids it (user.max_user_namespaces is 0)\" }");
  g_autoptr(CasementVmConfig) config = casement_vm_config_new ("W");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) problems = NULL;
  g_auto(GStrv) argv = NULL;
  g_autofree char *all = NULL;
  char *reason = NULL;

  casement_vm_config_set_share_folder (config, "/home/tester/Public");
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_AUTO);

  g_assert_true (casement_host_get_virtiofsd_usable (userns));
  g_assert_true (casement_host_get_virtiofsd_userns (userns));
  g_assert_cmpint (casement_qemu_command_resolve_share (config, userns, &reason), ==,
                   CASEMENT_SHARE_METHOD_VIRTIOFS);
  g_assert_nonnull (strstr (reason, "without root in a user namespace"));
  g_clear_pointer (&reason, g_free);

  g_assert_false (casement_host_get_virtiofsd_usable (no_userns));
  g_assert_false (casement_host_get_virtiofsd_userns (no_userns));
  g_assert_cmpint (casement_qemu_command_resolve_share (config, no_userns, &reason), ==,
                   CASEMENT_SHARE_METHOD_SMB);
  g_assert_nonnull (strstr (reason, "user.max_user_namespaces is 0"));
  g_clear_pointer (&reason, g_free);
  problems = casement_host_dup_problems (no_userns);
  all = g_strjoinv ("\n", problems);
  g_assert_nonnull (strstr (all, "user.max_user_namespaces is 0"));

  /* Asked for by name, it is refused with the reason and the ways out. */
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_VIRTIOFS);
  argv = casement_qemu_command_build (config, no_userns, "/home/tester/vm", "/run/user/1000/c", &error);
  g_assert_null (argv);
  g_assert_error (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "user.max_user_namespaces is 0"));
  g_assert_nonnull (strstr (error->message, "SMB or WebDAV"));
  g_clear_error (&error);

  /* Read-only: the C helper gets a read-only mount, so virtiofs stays. */
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_AUTO);
  casement_vm_config_set_share_read_only (config, TRUE);
  g_assert_cmpint (casement_qemu_command_resolve_share (config, userns, &reason), ==,
                   CASEMENT_SHARE_METHOD_VIRTIOFS);
  g_clear_pointer (&reason, g_free);
  g_assert_cmpint (casement_qemu_command_resolve_share (config, no_userns, &reason), ==,
                   CASEMENT_SHARE_METHOD_WEBDAV);
  g_assert_nonnull (strstr (reason, "read-only"));
  g_clear_pointer (&reason, g_free);

  /* This machine, as the probe found it by trying: answer and reason agree. */
  g_test_message ("user namespaces here: %s (%s)",
                  casement_host_get_userns_usable (host) ? "yes" : "no",
                  casement_host_get_userns_reason (host) ? casement_host_get_userns_reason (host) : "-");
  g_assert_true (casement_host_get_userns_usable (host) == (casement_host_get_userns_reason (host) == NULL));
}

/* Host and guest exchange files through virtiofs, names with spaces, a
 * comma and more than ASCII included. Used as root and, by the
 * unprivileged case, as another user. */
static void
run_virtiofs_round_trip (const char *vm_name)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *share = make_share ("Shared, folder ü");
  g_autofree char *cmdline = share_cmdline ("round-trip.sh");
  g_autofree char *slug = NULL;
  g_autofree char *pidfile = NULL;
  g_autofree char *guest_text = NULL;
  g_autofree char *listed = NULL;
  const VmOptions options = {
    .cmdline_extra = cmdline,
    .share_folder = share,
    .share_method = CASEMENT_SHARE_METHOD_AUTO,
  };
  GPid virtiofsd;

  if (!casement_host_get_virtiofsd_usable (host))
    {
      g_autofree char *why = g_strdup_printf ("No virtiofsd can run here: %s",
                                              casement_host_get_userns_reason (host) != NULL
                                              ? casement_host_get_userns_reason (host) : "none installed");
      g_test_skip (why);
      return;
    }

  write_share_file (share, "from-host.txt", "hello from the host\n");
  write_share_file (share, HOST_FILE_NAME, HOST_FILE_TEXT "\n");
  write_share_file (share, "round-trip.sh",
                    "cat from-host.txt\n"
                    "cat \"" HOST_FILE_NAME "\"\n"
                    "printf '%s\\n' '" GUEST_FILE_TEXT "' > \"" GUEST_FILE_NAME "\"\n"
                    "sync\n");

  slug = create_vm (store, vm_name, &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));

  /* Picked by itself, and said why. */
  g_assert_cmpint (casement_vm_get_share_method (vm), ==, CASEMENT_SHARE_METHOD_VIRTIOFS);
  g_assert_nonnull (casement_vm_get_share_reason (vm));
  g_test_message ("share: %s", casement_vm_get_share_reason (vm));
  g_assert_null (casement_vm_get_share_problem (vm));

  pidfile = casement_test_vm_runtime_file (vm, "virtiofsd.pid");
  virtiofsd = read_pid (pidfile);
  g_assert_true (casement_test_pid_alive (virtiofsd));

  casement_test_vm_wait_serial (vm, "TG: run end", BOOT_TIMEOUT_S, NULL);
  g_assert_true (serial_has_line (vm, "virtiofs mounted"));
  listed = g_strconcat ("share ls ", HOST_FILE_NAME, NULL);
  g_assert_true (serial_has_line (vm, listed));
  g_assert_true (serial_has_line (vm, "run hello from the host"));
  g_assert_true (serial_has_line (vm, "run " HOST_FILE_TEXT));
  g_assert_true (serial_has_line (vm, "run end 0"));

  guest_text = read_share_file (share, GUEST_FILE_NAME);
  g_assert_cmpstr (guest_text, ==, GUEST_FILE_TEXT "\n");

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_shutdown (vm, STEP_TIMEOUT_S, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);
  casement_test_wait_pid_gone (virtiofsd, 10);
  casement_test_vm_assert_no_leftovers (vm);
  casement_test_remove_tree (share);
}

static void
test_sharing_virtiofs (void)
{
  run_virtiofs_round_trip ("Sharing");
}

/* Read-only reaches the guest as a read-only folder, and the host's own
 * view of the folder stays writable. Also run as another user. */
static void
run_read_only (const char *vm_name)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *share = make_share ("Read-only ü");
  g_autofree char *cmdline = share_cmdline ("read-only.sh");
  g_autofree char *slug = NULL;
  g_autofree char *leaked = NULL;
  const VmOptions options = {
    .cmdline_extra = cmdline,
    .share_folder = share,
    .share_method = CASEMENT_SHARE_METHOD_AUTO,
    .read_only = TRUE,
  };

  if (!casement_host_get_virtiofsd_usable (host))
    {
      g_test_skip ("No virtiofsd can run here");
      return;
    }

  write_share_file (share, "from-host.txt", "read me\n");
  write_share_file (share, "read-only.sh",
                    "cat from-host.txt\n"
                    "if echo x > guest.txt; then echo 'write allowed'; else echo 'write refused'; fi\n");

  slug = create_vm (store, vm_name, &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_share_method (vm), ==, CASEMENT_SHARE_METHOD_VIRTIOFS);

  casement_test_vm_wait_serial (vm, "TG: run end", BOOT_TIMEOUT_S, NULL);
  g_assert_true (serial_has_line (vm, "run read me"));
  g_assert_true (serial_has_line (vm, "run write refused"));
  leaked = read_share_file (share, "guest.txt");
  g_assert_null (leaked);

  /* The read-only mount lives in virtiofsd's namespace only. */
  write_share_file (share, "host-still-writes.txt", "yes\n");

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  casement_test_vm_assert_no_leftovers (vm);
  casement_test_remove_tree (share);
}

static void
test_sharing_read_only (void)
{
  run_read_only ("Read-only share");
}

static void
on_share_problem (CasementVm *vm,
                  GParamSpec *pspec,
                  guint      *count)
{
  if (casement_vm_get_share_problem (vm) != NULL)
    (*count)++;
}

/* A virtiofsd that dies mid-run costs the guest its folder, not its life:
 * the VM runs on and says what happened. */
static void
test_sharing_daemon_killed (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(CasementVm) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *share = make_share ("Killed ü");
  g_autofree char *slug = NULL;
  g_autofree char *pidfile = NULL;
  g_autofree char *status = NULL;
  const VmOptions options = {
    .cmdline_extra = "tg.virtiofs=" SHARE_TAG,
    .share_folder = share,
    .share_method = CASEMENT_SHARE_METHOD_VIRTIOFS,
  };
  gint64 deadline;
  guint problems = 0;
  GPid virtiofsd;

  if (!casement_host_get_virtiofsd_usable (host))
    {
      g_test_skip ("No virtiofsd can run here");
      return;
    }

  slug = create_vm (store, "Share killed", &options);
  vm = casement_vm_new (store, slug);
  g_signal_connect (vm, "notify::share-problem", G_CALLBACK (on_share_problem), &problems);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, "TG: virtiofs mounted", BOOT_TIMEOUT_S, NULL);

  pidfile = casement_test_vm_runtime_file (vm, "virtiofsd.pid");
  virtiofsd = read_pid (pidfile);
  g_assert_true (casement_test_pid_alive (virtiofsd));
  g_assert_no_errno (kill (virtiofsd, SIGKILL));

  deadline = g_get_monotonic_time () + STEP_TIMEOUT_S * G_USEC_PER_SEC;
  while (problems == 0 && g_get_monotonic_time () < deadline)
    casement_test_spin (50);
  g_assert_cmpuint (problems, ==, 1);
  g_test_message ("share problem: %s", casement_vm_get_share_problem (vm));
  g_assert_nonnull (strstr (casement_vm_get_share_problem (vm), "virtiofsd"));

  /* The VM lives on, and says so through QMP too. */
  casement_test_spin (500);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  status = qmp_status (vm);
  g_assert_cmpstr (status, ==, "running");
  g_assert_true (casement_test_pid_alive (casement_vm_get_pid (vm)));

  /* After an app restart the loss shows at once. */
  again = casement_vm_new_for_cli (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_attach (again, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (again), ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_cmpint (casement_vm_get_share_method (again), ==, CASEMENT_SHARE_METHOD_VIRTIOFS);
  g_assert_nonnull (casement_vm_get_share_problem (again));
  g_clear_object (&again);

  /* The guest's power-off handler syncs, which waits forever on the lost
   * folder: force it off. */
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  g_assert_null (casement_vm_get_share_problem (vm));
  g_assert_cmpuint (problems, ==, 1);
  casement_test_vm_assert_no_leftovers (vm);
  casement_test_remove_tree (share);
}

/* No virtiofsd (CASEMENT_VIRTIOFSD=""), smbd there: the VM starts with
 * QEMU's SMB share, and its log says why. Started by casementctl, whose
 * host probe reads the variable. */
static void
test_sharing_fallback_smb (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) ctl = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *share = make_share ("SMB, share ü");
  g_autofree char *slug = NULL;
  g_autofree char *ctl_path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *log = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *smb_arg = NULL;
  g_autofree char *virtiofsd_pidfile = NULL;
  const VmOptions options = {
    .share_folder = share,
    .share_method = CASEMENT_SHARE_METHOD_AUTO,
    .network = TRUE,
  };

  if (casement_host_get_smbd_path (host) == NULL)
    {
      g_test_skip ("smbd is not installed (the samba package)");
      return;
    }

  slug = create_vm (store, "SMB fallback", &options);

  ctl_path = g_strdup (g_getenv ("CASEMENTCTL"));
  if (ctl_path == NULL)
    ctl_path = g_test_build_filename (G_TEST_BUILT, "..", "src", "ctl", "casementctl", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "CASEMENT_VIRTIOFSD", "", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  ctl = g_subprocess_launcher_spawn (launcher, &error, ctl_path, "start", slug, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (ctl, NULL, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, BOOT_TIMEOUT_S, "casementctl start");
  g_subprocess_communicate_utf8_finish (ctl, result, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("casementctl start: %s%s", out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (ctl), ==, 0);

  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_attach (vm, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);

  /* What QEMU runs with, not what was meant. */
  g_assert_cmpint (casement_vm_get_share_method (vm), ==, CASEMENT_SHARE_METHOD_SMB);
  escaped = casement_qemu_escape (share);
  smb_arg = g_strconcat (",smb=", escaped, NULL);
  g_assert_true (cmdline_has (casement_vm_get_pid (vm), smb_arg));
  g_assert_false (cmdline_has (casement_vm_get_pid (vm), "vhost-user-fs-pci"));
  virtiofsd_pidfile = casement_test_vm_runtime_file (vm, "virtiofsd.pid");
  g_assert_false (g_file_test (virtiofsd_pidfile, G_FILE_TEST_EXISTS));

  log_path = casement_test_vm_file (vm, CASEMENT_VM_QEMU_LOG);
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "shared folder: SMB"));
  g_assert_nonnull (strstr (log, "\\\\10.0.2.4\\qemu"));
  g_assert_nonnull (strstr (log, "virtiofsd is not installed"));

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  casement_test_vm_assert_no_leftovers (vm);
  casement_test_remove_tree (share);
}

/* No virtiofsd and no smbd: SPICE WebDAV, over its spiceport channel. */
static void
test_sharing_fallback_webdav (void)
{
  g_autoptr(CasementHost) bare = host_without ("virtiofsd", "smbd");
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(CasementVm) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) chardevs = NULL;
  g_autofree char *share = make_share ("WebDAV ü");
  g_autofree char *slug = NULL;
  const VmOptions options = {
    .share_folder = share,
    .share_method = CASEMENT_SHARE_METHOD_AUTO,
    .network = TRUE,
  };
  gboolean webdav = FALSE;
  JsonArray *list;

  slug = create_vm (store, "WebDAV fallback", &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, bare, BOOT_TIMEOUT_S, &error));

  g_assert_cmpint (casement_vm_get_share_method (vm), ==, CASEMENT_SHARE_METHOD_WEBDAV);
  g_test_message ("share: %s", casement_vm_get_share_reason (vm));
  g_assert_nonnull (strstr (casement_vm_get_share_reason (vm), "spice-webdavd"));
  g_assert_nonnull (strstr (casement_vm_get_share_reason (vm), "virtiofsd is not installed"));
  g_assert_nonnull (strstr (casement_vm_get_share_reason (vm), "smbd is not installed"));

  chardevs = casement_test_vm_qmp (vm, "query-chardev", STEP_TIMEOUT_S);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (chardevs));
  list = json_node_get_array (chardevs);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *chardev = json_array_get_object_element (list, i);

      webdav |= g_strcmp0 (json_object_get_string_member (chardev, "label"), "webdav") == 0;
    }
  g_assert_true (webdav);

  again = casement_vm_new_for_cli (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_attach (again, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_share_method (again), ==, CASEMENT_SHARE_METHOD_WEBDAV);
  g_assert_null (casement_vm_get_share_reason (again));
  g_clear_object (&again);

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  casement_test_vm_assert_no_leftovers (vm);
  casement_test_remove_tree (share);
}

static gboolean
copy_file (const char  *from,
           const char  *to,
           GError     **error)
{
  g_autoptr(GFile) source = g_file_new_for_path (from);
  g_autoptr(GFile) dest = g_file_new_for_path (to);

  return g_file_copy (source, dest, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error);
}

static void
chown_tree (const char *path,
            uid_t       uid,
            gid_t       gid)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_assert_no_errno (lchown (path, uid, gid));
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return;

  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      chown_tree (child, uid, gid);
    }
}

/* The round trip and read-only cases again, with everything (this test,
 * QEMU, virtiofsd) running as an ordinary user, "nobody", with its
 * supplementary groups. As root the test runs a copy of itself as that
 * user, in a home and XDG folders of its own; as an ordinary user, it is
 * that copy already. */
static void
test_sharing_unprivileged (void)
{
  g_autofree char *setpriv = NULL;
  g_autofree char *exe = NULL;
  g_autofree char *home = NULL;
  g_autofree char *guest_dir = NULL;
  g_autofree char *guest_name = NULL;
  g_autofree char *cache = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) reach = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid_arg = NULL;
  g_autofree char *gid_arg = NULL;
  g_autofree char *data_home = NULL;
  g_autofree char *runtime_dir = NULL;
  g_autofree char *cache_home = NULL;
  const char * const files[] = { "vmlinuz", "initrd.gz", "stamp" };
  struct passwd *nobody;
  const char *skip;

  if (getuid () != 0)
    {
      run_virtiofs_round_trip ("Sharing as a user");
      run_read_only ("Read-only as a user");
      return;
    }

  if (!(nobody = getpwnam ("nobody")))
    {
      g_test_skip ("There is no user “nobody” to run as");
      return;
    }
  if (!(setpriv = g_find_program_in_path ("setpriv")))
    {
      g_test_skip ("setpriv (util-linux) is not installed");
      return;
    }

  exe = g_file_read_link ("/proc/self/exe", &error);
  g_assert_no_error (error);
  uid_arg = g_strdup_printf ("--reuid=%u", (guint) nobody->pw_uid);
  gid_arg = g_strdup_printf ("--regid=%u", (guint) nobody->pw_gid);

  /* A build in a private home is out of the other user's reach. */
  reach = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                            setpriv, uid_arg, gid_arg, "--init-groups", "--", "test", "-x", exe, NULL);
  g_assert_no_error (error);
  g_subprocess_wait (reach, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (reach))
    {
      g_autofree char *why = g_strdup_printf ("“nobody” cannot run %s", exe);

      g_test_skip (why);
      return;
    }

  /* Its own home, out of reach of root's private folders; the test
   * guest's cached build is copied into its cache. */
  home = g_dir_make_tmp ("casement-sharing-user-XXXXXX", &error);
  g_assert_no_error (error);
  data_home = g_build_filename (home, "data", NULL);
  runtime_dir = g_build_filename (home, "run", NULL);
  cache_home = g_build_filename (home, "cache", NULL);
  guest_dir = g_path_get_dirname (guest_kernel);
  guest_name = g_path_get_basename (guest_dir);
  cache = g_build_filename (cache_home, guest_name, NULL);
  g_assert_no_errno (g_mkdir_with_parents (cache, 0755));
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *from = g_build_filename (guest_dir, files[i], NULL);
      g_autofree char *to = g_build_filename (cache, files[i], NULL);

      copy_file (from, to, &error);
      g_assert_no_error (error);
    }
  g_assert_no_errno (g_mkdir (data_home, 0700));
  g_assert_no_errno (g_mkdir (runtime_dir, 0700));
  chown_tree (home, nobody->pw_uid, nobody->pw_gid);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_cwd (launcher, home);
  g_subprocess_launcher_setenv (launcher, CHILD_ENV, "1", TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", runtime_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "CASEMENT_TEST_GUEST_CACHE", cache_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "TMPDIR", home, TRUE);
  child = g_subprocess_launcher_spawn (launcher, &error,
                                       setpriv, uid_arg, gid_arg, "--init-groups", "--",
                                       exe, "-p", "/Casement/Sharing/unprivileged", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (child, NULL, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, BOOT_TIMEOUT_S + 3 * STEP_TIMEOUT_S, "the test as another user");
  g_subprocess_communicate_utf8_finish (child, result, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("as “nobody”: exit %d\n%s%s", g_subprocess_get_exit_status (child), out, err);

  /* Whatever it started is gone, and root cleans up its home. */
  casement_test_assert_no_processes (home, 5);
  casement_test_remove_tree (home);

  g_assert_cmpint (g_subprocess_get_exit_status (child), ==, 0);
  if ((skip = strstr (out, "# SKIP")) != NULL)
    {
      g_autofree char *why = g_strdup_printf ("As “nobody”: %s", skip + strlen ("# SKIP"));

      g_test_skip (why);
    }
}

/* Fills @path with @mib MiB of a pseudo-random pattern; returns its MD5. */
static char *
write_pattern_file (const char *path,
                    guint       mib)
{
  g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);
  g_autofree guint64 *block = g_new (guint64, MIB / sizeof (guint64));
  guint64 x = 0x9e3779b97f4a7c15;
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  g_assert_cmpint (fd, >=, 0);
  for (guint i = 0; i < mib; i++)
    {
      for (gsize j = 0; j < MIB / sizeof (guint64); j++)
        {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          block[j] = x;
        }
      g_assert_cmpint (write (fd, block, MIB), ==, MIB);
      g_checksum_update (md5, (const guchar *) block, MIB);
    }
  g_assert_no_errno (fsync (fd));
  g_assert_no_errno (close (fd));

  return g_strdup (g_checksum_get_string (md5));
}

/* Out of the host's page cache, so the next read comes from the disk. */
static void
drop_from_cache (const char *path)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_assert_no_errno (fdatasync (fd));
  g_assert_cmpint (posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED), ==, 0);
  close (fd);
}

/* Runs dd with @args on the host; returns the seconds it took. */
static double
host_dd (const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) dd = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  g_ptr_array_add (argv, (gpointer) "dd");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, (gpointer) "status=none");
  g_ptr_array_add (argv, NULL);

  start = g_get_monotonic_time ();
  dd = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check_async (dd, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, BENCH_TIMEOUT_S, "dd");
  g_subprocess_wait_check_finish (dd, result, &error);
  g_assert_no_error (error);

  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

/* "TG: run <what> <start uptime> <end uptime>" → seconds. */
static double
guest_seconds (CasementVm *vm,
               const char *what)
{
  g_autofree char *regex = g_strdup_printf ("TG: run %s [0-9.]+ [0-9.]+", what);
  g_autofree char *line = NULL;
  g_auto(GStrv) fields = NULL;
  double seconds;

  casement_test_vm_wait_serial (vm, regex, BENCH_TIMEOUT_S, &line);
  g_strchomp (line);
  fields = g_strsplit (strstr (line, "TG: run "), " ", -1);
  g_assert_cmpuint (g_strv_length (fields), ==, 5);
  seconds = g_ascii_strtod (fields[4], NULL) - g_ascii_strtod (fields[3], NULL);
  /* /proc/uptime counts in hundredths. */
  return MAX (seconds, 0.01);
}

/* Sequential throughput through the share, from inside the guest, against
 * the same dd on the host into the same folder. A benchmark: it asserts
 * only that the data arrived whole. */
static void
test_sharing_benchmark (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *share = make_share ("Benchmark");
  g_autofree char *cmdline = share_cmdline ("bench.sh");
  g_autofree char *slug = NULL;
  g_autofree char *pattern = g_build_filename (share, "pattern.bin", NULL);
  g_autofree char *host_written = g_build_filename (share, "host-write.bin", NULL);
  g_autofree char *guest_written = g_build_filename (share, "guest-write.bin", NULL);
  g_autofree char *md5 = NULL;
  g_autofree char *md5_line = NULL;
  g_autofree char *if_pattern = g_strconcat ("if=", pattern, NULL);
  g_autofree char *of_host = g_strconcat ("of=", host_written, NULL);
  g_autofree char *count = g_strdup_printf ("count=%u", BENCH_MIB);
  g_autofree char *zeros = g_malloc0 (MIB);
  g_autofree char *buffer = g_malloc (MIB);
  const VmOptions options = {
    .cmdline_extra = cmdline,
    .share_folder = share,
    .share_method = CASEMENT_SHARE_METHOD_VIRTIOFS,
    .memory_mib = 1024,
  };
  double host_read, host_write, guest_read, guest_write;
  GStatBuf st;
  gsize total = 0;
  gssize n;
  int fd;

  if (!casement_host_get_virtiofsd_usable (host))
    {
      g_test_skip ("No virtiofsd can run here");
      return;
    }

  md5 = write_pattern_file (pattern, BENCH_MIB);

  /* The host: write with fsync, then read back from the disk. */
  host_write = host_dd ((const char * const []) { "if=/dev/zero", of_host, "bs=1M", count, "conv=fsync", NULL });
  drop_from_cache (host_written);
  g_assert_no_errno (g_unlink (host_written));
  drop_from_cache (pattern);
  host_read = host_dd ((const char * const []) { if_pattern, "of=/dev/null", "bs=1M", NULL });
  drop_from_cache (pattern);

  /* The guest: the same, through virtiofs, caches dropped first. */
  write_share_file (share, "bench.sh",
                    "echo 3 > /proc/sys/vm/drop_caches\n"
                    "read a _ < /proc/uptime\n"
                    "dd if=pattern.bin of=/dev/null bs=1M 2> /dev/null\n"
                    "read b _ < /proc/uptime\n"
                    "echo \"read $a $b\"\n"
                    "echo \"md5 $(md5sum pattern.bin)\"\n"
                    "echo 3 > /proc/sys/vm/drop_caches\n"
                    "read a _ < /proc/uptime\n"
                    "dd if=/dev/zero of=guest-write.bin bs=1M count=" G_STRINGIFY (BENCH_MIB) " conv=fsync 2> /dev/null\n"
                    "read b _ < /proc/uptime\n"
                    "echo \"write $a $b\"\n");

  slug = create_vm (store, "Benchmark", &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));

  guest_read = guest_seconds (vm, "read");
  casement_test_vm_wait_serial (vm, "TG: run md5 ", BENCH_TIMEOUT_S, &md5_line);
  guest_write = guest_seconds (vm, "write");
  casement_test_vm_wait_serial (vm, "TG: run end", STEP_TIMEOUT_S, NULL);
  g_assert_true (serial_has_line (vm, "run end 0"));

  /* Intact both ways: what the guest read, and what it wrote. */
  g_assert_nonnull (strstr (md5_line, md5));
  g_assert_no_errno (g_stat (guest_written, &st));
  g_assert_cmpint (st.st_size, ==, (goffset) BENCH_MIB * MIB);
  fd = g_open (guest_written, O_RDONLY | O_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  while ((n = read (fd, buffer, MIB)) > 0)
    {
      g_assert_cmpint (memcmp (buffer, zeros, n), ==, 0);
      total += n;
    }
  close (fd);
  g_assert_cmpuint (total, ==, (gsize) BENCH_MIB * MIB);

  g_test_message ("virtiofs sequential read,  %u MiB: guest %.1f MiB/s (%.2f s), host %.1f MiB/s (%.2f s): "
                  "guest/host %.3f",
                  BENCH_MIB, BENCH_MIB / guest_read, guest_read, BENCH_MIB / host_read, host_read,
                  host_read / guest_read);
  g_test_message ("virtiofs sequential write, %u MiB (fsync): guest %.1f MiB/s (%.2f s), host %.1f MiB/s (%.2f s): "
                  "guest/host %.3f",
                  BENCH_MIB, BENCH_MIB / guest_write, guest_write, BENCH_MIB / host_write, host_write,
                  host_write / guest_write);
  g_test_message ("The guest runs under %s: its figures measure the emulated CPU as much as virtiofs.",
                  casement_host_get_kvm_usable (host) ? "KVM" : "TCG (no KVM)");

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  casement_test_vm_assert_no_leftovers (vm);
  casement_test_remove_tree (share);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(CasementTestGuestEnv) env = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *env_dir = NULL;
  gboolean as_user;
  int status;

  g_test_init (&argc, &argv, NULL);

  /* The copy running as another user was given its own XDG folders. */
  as_user = g_getenv (CHILD_ENV) != NULL;
  if (!as_user)
    {
      if (!(env = casement_test_guest_env_new (&error)))
        g_error ("%s", error->message);
    }

  if (!casement_test_guest_ensure (&guest_kernel, &guest_initrd, &error))
    g_error ("%s", error->message);

  host = casement_host_probe (NULL, &error);
  g_assert_no_error (error);

  env_dir = g_path_get_dirname (g_get_user_data_dir ());
  casement_test_kill_on_abort (env_dir);

  g_test_add_func ("/Casement/Sharing/resolve", test_sharing_resolve);
  g_test_add_func ("/Casement/Sharing/virtiofs", test_sharing_virtiofs);
  g_test_add_func ("/Casement/Sharing/read-only", test_sharing_read_only);
  g_test_add_func ("/Casement/Sharing/daemon-killed", test_sharing_daemon_killed);
  g_test_add_func ("/Casement/Sharing/fallback-smb", test_sharing_fallback_smb);
  g_test_add_func ("/Casement/Sharing/fallback-webdav", test_sharing_fallback_webdav);
  g_test_add_func ("/Casement/Sharing/unprivileged", test_sharing_unprivileged);
  g_test_add_func ("/Casement/Sharing/benchmark", test_sharing_benchmark);

  status = g_test_run ();

  g_clear_object (&host);
  g_free (guest_kernel);
  g_free (guest_initrd);

  return status;
}
