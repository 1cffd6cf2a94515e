/* test-vm.c
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
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "casement-qemu-command.h"
#include "casement-qemu-img.h"
#include "casement-test-guest.h"
#include "casement-test-util.h"
#include "casement-test-vm.h"
#include "casement-util.h"
#include "casement-vm.h"

/* Guest boot under TCG takes seconds; a loaded 2-core host may need more. */
#define BOOT_TIMEOUT_S 90
#define STEP_TIMEOUT_S 60

static CasementHost *host;

/* ------------------------------------------------------------------ */
/* Waiting                                                             */
/* ------------------------------------------------------------------ */

static void
wait_for_state (CasementVm      *vm,
                CasementVmState  state,
                guint            timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (casement_vm_get_state (vm) != state && g_get_monotonic_time () < deadline)
    casement_test_spin (20);

  if (casement_vm_get_state (vm) != state)
    g_error ("Timed out after %u s waiting for state %d (now %d)", timeout_s,
             state, casement_vm_get_state (vm));
}

/* Each control as a synchronous call that still runs the main context,
 * so QMP events keep arriving meanwhile. */
static gboolean
vm_send_keys (CasementVm          *vm,
              const char * const  *keys,
              GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_vm_send_keys_async (vm, keys, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "send keys");
  return casement_vm_send_keys_finish (vm, result, error);
}

static gboolean
vm_screendump (CasementVm  *vm,
               const char  *path,
               GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_vm_screendump_async (vm, path, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "screendump");
  return casement_vm_screendump_finish (vm, result, error);
}

static gboolean
vm_change_cd (CasementVm  *vm,
              const char  *drive,
              const char  *path,
              GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_vm_change_cd_async (vm, drive, path, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "change CD");
  return casement_vm_change_cd_finish (vm, result, error);
}

static gboolean
vm_eject (CasementVm  *vm,
          const char  *drive,
          GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_vm_eject_async (vm, drive, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "eject");
  return casement_vm_eject_finish (vm, result, error);
}

static gboolean
vm_set_balloon (CasementVm  *vm,
                guint64      bytes,
                GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_vm_set_balloon_async (vm, bytes, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "balloon");
  return casement_vm_set_balloon_finish (vm, result, error);
}

#define SNAPSHOT_CONTROL(name)                                                                   \
  static gboolean                                                                                \
  vm_snapshot_##name (CasementVm  *vm,                                                           \
                      const char  *tag,                                                          \
                      GError     **error)                                                        \
  {                                                                                              \
    g_autoptr(GAsyncResult) result = NULL;                                                       \
                                                                                                 \
    casement_vm_snapshot_##name##_async (vm, tag, NULL, casement_test_store_result_cb, &result); \
    casement_test_await_result (&result, STEP_TIMEOUT_S * 2, "snapshot " #name);                 \
    return casement_vm_snapshot_##name##_finish (vm, result, error);                             \
  }

SNAPSHOT_CONTROL (create)
SNAPSHOT_CONTROL (revert)
SNAPSHOT_CONTROL (delete)

static GPtrArray *
vm_snapshot_list (CasementVm  *vm,
                  GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  casement_vm_snapshot_list_async (vm, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "snapshot list");
  return casement_vm_snapshot_list_finish (vm, result, error);
}

/* ------------------------------------------------------------------ */
/* VMs of the test guest                                               */
/* ------------------------------------------------------------------ */

typedef struct
{
  const char *cmdline_extra;   /* appended to the guest's kernel command line */
  const char *install_iso;
  const char *share_folder;
  guint64     memory_mib;
  gboolean    tpm;
  const char *kernel;          /* replaces the test guest's kernel */
} VmOptions;

/* Creates a VM of the test guest in the default store; returns its slug. */
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

  if (options->memory_mib != 0)
    casement_vm_config_set_memory_mib (config, options->memory_mib);
  casement_vm_config_set_tpm (config, options->tpm);
  if (options->install_iso != NULL)
    {
      /* Installed: the CD does not boot first (the kernel does, and QEMU
       * refuses two devices with bootindex 0). */
      casement_vm_config_set_install_iso (config, options->install_iso);
      casement_vm_config_set_installed (config, TRUE);
    }
  if (options->share_folder != NULL)
    {
      casement_vm_config_set_share_folder (config, options->share_folder);
      casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_VIRTIOFS);
    }
  if (options->kernel != NULL)
    casement_vm_config_set_kernel (config, options->kernel);

  casement_vm_store_create_async (store, config, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "VM creation");
  slug = casement_vm_store_create_finish (store, result, &error);
  g_assert_no_error (error);

  return slug;
}

/* Waits until @count lines of the serial log contain @needle (the guest
 * reports some facts again after a reset). */
static void
wait_serial_count (CasementVm *vm,
                   const char *needle,
                   guint       count,
                   guint       timeout_s)
{
  g_autofree char *serial = casement_test_vm_file (vm, CASEMENT_VM_SERIAL_LOG);
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  guint seen = 0;

  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *contents = NULL;

      seen = 0;
      if (g_file_get_contents (serial, &contents, NULL, NULL))
        {
          for (const char *p = strstr (contents, needle); p != NULL; p = strstr (p + 1, needle))
            seen++;
        }
      if (seen >= count)
        return;

      casement_test_spin (200);
    }

  g_error ("The guest reported “%s” %u times within %u s, not %u", needle, seen, timeout_s, count);
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* The guest notices a medium change by its size: give each ISO its own
 * @padding. */
static void
make_iso (const char *path,
          const char *label,
          const char *file_name,
          gsize       padding)
{
  g_autofree char *dir = g_strconcat (path, ".d", NULL);
  g_autofree char *file = g_build_filename (dir, file_name, NULL);
  g_autoptr(GSubprocess) xorriso = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  g_autofree char *contents = g_strnfill (padding, 'x');

  g_assert_no_errno (g_mkdir_with_parents (dir, 0755));
  g_assert_true (g_file_set_contents (file, contents, padding, NULL));

  xorriso = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                              "xorriso", "-as", "mkisofs", "-V", label, "-o", path, dir, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (xorriso, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (xorriso))
    g_error ("xorriso failed: %s", err);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
on_event_count (CasementQmpClient *qmp,
                const char        *name,
                JsonObject        *data,
                gint64             timestamp,
                guint             *count)
{
  (*count)++;
}

static void
test_vm_lifecycle (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(CasementVm) other = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *png = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *run_dir = NULL;
  g_autofree char *log = NULL;
  g_autofree char *old_log = NULL;
  g_autofree char *big = NULL;
  CasementQmpClient *qmp;
  const VmOptions options = { 0 };
  const char * const typed[] = { "h", "i", "ret" };
  guint host_major, host_minor, host_micro;
  guint major, minor, micro;
  guint shutdowns = 0;
  guint resets = 0;
  gint64 begin;
  gsize len = 0;
  GPid pid;
  struct stat st;

  slug = create_vm (store, "Lifecycle", &options);
  vm = casement_vm_new (store, slug);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);

  /* A log over its cap from earlier runs is set aside at start. */
  log = casement_test_vm_file (vm, CASEMENT_VM_QEMU_LOG);
  old_log = g_strconcat (log, ".1", NULL);
  big = g_strnfill (2 * 1024 * 1024, 'x');
  g_assert_true (g_file_set_contents (log, big, -1, NULL));

  begin = g_get_monotonic_time ();
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  g_test_message ("start_async → QMP ready (guest boot excluded): %.0f ms",
                  (g_get_monotonic_time () - begin) / 1000.0);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_nonnull (casement_vm_get_config (vm));
  g_assert_null (casement_vm_get_last_error (vm));

  qmp = casement_vm_get_qmp_client (vm);
  g_assert_nonnull (qmp);
  casement_host_get_qemu_version (host, &host_major, &host_minor, &host_micro);
  casement_qmp_client_get_qemu_version (qmp, &major, &minor, &micro);
  g_assert_cmpuint (major, ==, host_major);
  g_assert_cmpuint (minor, ==, host_minor);
  g_assert_cmpuint (micro, ==, host_micro);

  /* The runtime folder is private, and QEMU is in a session of its own. */
  g_assert_no_errno (g_stat (old_log, &st));
  g_assert_cmpint (st.st_size, ==, 2 * 1024 * 1024);
  g_assert_no_errno (g_stat (log, &st));
  g_assert_cmpint (st.st_size, <, 1024 * 1024);

  run_dir = casement_vm_dup_runtime_dir (vm, &error);
  g_assert_no_error (error);
  g_assert_no_errno (g_stat (run_dir, &st));
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  pid = casement_vm_get_pid (vm);
  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (getsid (pid), ==, pid);

  /* A second start is refused, by this object and by another one (as a
   * second app instance would make). */
  g_assert_false (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY);
  g_clear_error (&error);
  other = casement_vm_new (store, slug);
  g_assert_false (casement_test_vm_start (other, host, BOOT_TIMEOUT_S, &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY);
  g_test_message ("second start: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpint (casement_vm_get_state (other), ==, CASEMENT_VM_STATE_STOPPED);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  g_clear_object (&other);

  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);

  /* Pause and resume: the state follows QEMU's STOP and RESUME events. */
  g_assert_false (casement_test_vm_resume (vm, STEP_TIMEOUT_S, &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_NOT_RUNNING);
  g_clear_error (&error);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_pause (vm, STEP_TIMEOUT_S, &error));
  wait_for_state (vm, CASEMENT_VM_STATE_PAUSED, STEP_TIMEOUT_S);
  g_assert_false (casement_test_vm_shutdown (vm, 5, STEP_TIMEOUT_S, &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_NOT_RUNNING);
  g_clear_error (&error);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_resume (vm, STEP_TIMEOUT_S, &error));
  wait_for_state (vm, CASEMENT_VM_STATE_RUNNING, STEP_TIMEOUT_S);

  /* Screendump: a PNG of the guest's 1280x800 EFI framebuffer. */
  png = g_build_filename (g_get_user_data_dir (), "shot, with comma.png", NULL);
  CASEMENT_TEST_ASSERT_OK (vm_screendump (vm, png, &error));
  g_assert_true (g_file_get_contents (png, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 24);
  g_assert_cmpmem (contents, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpmem (contents + 12, 4, "IHDR", 4);
  g_assert_cmpuint (read_be32 ((guint8 *) contents + 16), ==, 1280);
  g_assert_cmpuint (read_be32 ((guint8 *) contents + 20), ==, 800);
  g_unlink (png);

  /* Keys reach the guest: its tty1 reader reports the typed line. */
  for (guint i = 0; i < G_N_ELEMENTS (typed); i++)
    {
      const char *keys[] = { typed[i], NULL };

      CASEMENT_TEST_ASSERT_OK (vm_send_keys (vm, keys, &error));
    }
  casement_test_vm_wait_serial (vm, "GOT:hi", STEP_TIMEOUT_S, NULL);

  /* Reset: the guest boots again. */
  g_signal_connect (qmp, "event::RESET", G_CALLBACK (on_event_count), &resets);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_reset (vm, STEP_TIMEOUT_S, &error));
  g_assert_cmpuint (resets, ==, 1);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  wait_serial_count (vm, "TG: ready", 2, BOOT_TIMEOUT_S);

  /* ACPI power-off: the guest powers off, QEMU says SHUTDOWN and ends. */
  g_signal_connect (qmp, "event::SHUTDOWN", G_CALLBACK (on_event_count), &shutdowns);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_shutdown (vm, 0, STEP_TIMEOUT_S, &error));
  g_assert_cmpuint (shutdowns, ==, 1);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);
  g_assert_null (casement_vm_get_qmp_client (vm));
  g_assert_null (casement_vm_get_last_error (vm));
  g_assert_cmpint (casement_vm_get_pid (vm), ==, 0);
  g_assert_false (casement_test_pid_alive (pid));
  casement_test_vm_wait_serial (vm, "TG: powerdown", 1, NULL);

  g_assert_false (casement_test_vm_pause (vm, STEP_TIMEOUT_S, &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_NOT_RUNNING);
  g_clear_error (&error);

  casement_test_vm_assert_no_leftovers (vm);
}

static void
test_vm_shutdown_timeout (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  const VmOptions options = { .cmdline_extra = "tg.ignore_powerdown=1" };
  gint64 begin;
  GPid pid;

  slug = create_vm (store, "Stubborn", &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  pid = casement_vm_get_pid (vm);
  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);

  /* The guest sees the button and does nothing: the timeout says so, and
   * nothing is killed behind the user's back. */
  begin = g_get_monotonic_time ();
  g_assert_false (casement_test_vm_shutdown (vm, 5, STEP_TIMEOUT_S, &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_TIMEOUT);
  g_test_message ("timeout: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpint (g_get_monotonic_time () - begin, >=, 5 * G_USEC_PER_SEC);
  casement_test_vm_wait_serial (vm, "TG: powerdown ignored", 1, NULL);
  casement_test_spin (500);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_true (casement_test_pid_alive (pid));

  /* Until force off is asked. A QEMU that cannot even answer "quit"
   * (frozen here with SIGSTOP) is killed after a few seconds. */
  g_assert_no_errno (kill (pid, SIGSTOP));
  begin = g_get_monotonic_time ();
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (g_get_monotonic_time () - begin, >=, 4 * G_USEC_PER_SEC);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);
  g_assert_null (casement_vm_get_last_error (vm));
  g_assert_false (casement_test_pid_alive (pid));

  casement_test_vm_assert_no_leftovers (vm);
}

static void
image_info (const char          *path,
            CasementQemuImgInfo *info)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;

  casement_qemu_img_info_async (file, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, STEP_TIMEOUT_S, "qemu-img info");
  CASEMENT_TEST_ASSERT_OK (casement_qemu_img_info_finish (result, info, &error));
}

static void
test_vm_crash (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autofree char *slug = NULL;
  g_autofree char *log = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *log_contents = NULL;
  const VmOptions options = { 0 };
  GPid pid;

  slug = create_vm (store, "Crashy", &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);

  pid = casement_vm_get_pid (vm);
  g_assert_no_errno (kill (pid, SIGKILL));
  wait_for_state (vm, CASEMENT_VM_STATE_CRASHED, STEP_TIMEOUT_S);
  g_assert_false (casement_test_pid_alive (pid));
  g_assert_null (casement_vm_get_qmp_client (vm));
  g_assert_nonnull (casement_vm_get_last_error (vm));
  g_test_message ("crash: %s", casement_vm_get_last_error (vm));
  g_assert_nonnull (strstr (casement_vm_get_last_error (vm), "signal 9"));

  /* The log stays for the user, the disk is untouched and still valid. */
  log = casement_test_vm_file (vm, CASEMENT_VM_QEMU_LOG);
  g_assert_true (g_file_get_contents (log, &log_contents, NULL, NULL));
  g_assert_nonnull (strstr (log_contents, "Crashy"));
  disk = casement_test_vm_file (vm, "disk.qcow2");
  image_info (disk, &info);
  g_assert_cmpstr (info.format, ==, "qcow2");
  casement_test_vm_assert_no_leftovers (vm);

  /* A crashed VM starts again. */
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
  g_assert_null (casement_vm_get_last_error (vm));
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);

  casement_test_vm_assert_no_leftovers (vm);
}

static void
test_vm_start_errors (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(CasementVm) fw_vm = NULL;
  g_autoptr(CasementHost) bad_host = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *fw_slug = NULL;
  g_autofree char *fw_dir = NULL;
  g_autofree char *bad_code = NULL;
  g_autofree char *descriptor = NULL;
  g_autofree char *json = NULL;
  const VmOptions options = { .kernel = "/nonexistent/casement-test/vmlinuz" };
  const VmOptions fw_options = { 0 };

  /* A kernel that is not there: QEMU refuses, and says why. */
  slug = create_vm (store, "No Kernel", &options);
  vm = casement_vm_new (store, slug);
  g_assert_false (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED);
  g_test_message ("missing kernel: %s", error->message);
  g_assert_nonnull (strstr (error->message, "could not open kernel file"));
  g_assert_nonnull (strstr (error->message, "/nonexistent/casement-test/vmlinuz"));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);
  g_assert_cmpstr (casement_vm_get_last_error (vm), ==, error->message);
  g_clear_error (&error);
  casement_test_vm_assert_no_leftovers (vm);

  /* Firmware descriptors naming a broken firmware image. */
  fw_dir = g_build_filename (g_get_user_data_dir (), "firmware", NULL);
  g_assert_no_errno (g_mkdir_with_parents (fw_dir, 0755));
  bad_code = g_build_filename (fw_dir, "BROKEN_CODE.fd", NULL);
  g_assert_true (g_file_set_contents (bad_code, "not firmware", -1, NULL));
  json = g_strdup_printf ("{ \"description\": \"broken\", \"interface-types\": [ \"uefi\" ],"
                          "  \"mapping\": { \"device\": \"flash\","
                          "    \"executable\": { \"filename\": \"%s\", \"format\": \"raw\" },"
                          "    \"nvram-template\": { \"filename\": \"/usr/share/OVMF/OVMF_VARS_4M.fd\", \"format\": \"raw\" } },"
                          "  \"targets\": [ { \"architecture\": \"x86_64\", \"machines\": [ \"pc-q35-*\" ] } ],"
                          "  \"features\": [ ], \"tags\": [ ] }", bad_code);
  descriptor = g_build_filename (fw_dir, "10-broken.json", NULL);
  g_assert_true (g_file_set_contents (descriptor, json, -1, NULL));

  g_setenv ("CASEMENT_FIRMWARE_DIR", fw_dir, TRUE);
  bad_host = casement_host_probe (NULL, &error);
  g_unsetenv ("CASEMENT_FIRMWARE_DIR");
  g_assert_no_error (error);
  g_assert_cmpstr (casement_host_get_firmware_code (bad_host, FALSE), ==, bad_code);

  fw_slug = create_vm (store, "Bad Firmware", &fw_options);
  fw_vm = casement_vm_new (store, fw_slug);
  g_assert_false (casement_test_vm_start (fw_vm, bad_host, BOOT_TIMEOUT_S, &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED);
  g_test_message ("broken firmware: %s", error->message);
  g_assert_nonnull (strstr (error->message, "pflash0"));
  g_clear_error (&error);
  casement_test_vm_assert_no_leftovers (fw_vm);

  /* The same VM starts with good firmware: nothing was left in the way. */
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (fw_vm, host, BOOT_TIMEOUT_S, &error));
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (fw_vm, STEP_TIMEOUT_S, &error));
  casement_test_vm_assert_no_leftovers (fw_vm);
}

static void
test_vm_socket_in_use (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GSocketListener) listener = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *run_dir = NULL;
  g_autofree char *spice = NULL;
  const VmOptions options = { 0 };

  slug = create_vm (store, "Squatted", &options);
  vm = casement_vm_new (store, slug);

  /* Another program listens where the VM's SPICE socket goes. */
  run_dir = casement_vm_dup_runtime_dir (vm, &error);
  g_assert_no_error (error);
  g_assert_no_errno (g_mkdir (run_dir, 0700));
  spice = g_build_filename (run_dir, CASEMENT_RUNTIME_SPICE_SOCKET, NULL);
  address = g_unix_socket_address_new (spice);
  listener = g_socket_listener_new ();
  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, &error);
  g_assert_no_error (error);

  g_assert_false (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY);
  g_test_message ("socket in use: %s", error->message);
  g_assert_nonnull (strstr (error->message, spice));
  g_clear_error (&error);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);

  /* Nothing was started, and the other program keeps its socket. */
  g_assert_true (g_file_test (spice, G_FILE_TEST_EXISTS));
  g_socket_listener_close (listener);
  g_assert_no_errno (g_unlink (spice));
  g_assert_no_errno (g_rmdir (run_dir));
  casement_test_vm_assert_no_leftovers (vm);
}

/* A host description that says KVM works, on a machine where it does
 * not (DESIGN §3: /dev/kvm opens, yet QEMU cannot use it). */
static void
test_vm_kvm_unusable (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(CasementHost) kvm_host = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *slug = NULL;
  JsonObject *kvm;
  const VmOptions options = { 0 };

  if (casement_host_get_kvm_usable (host))
    {
      g_test_skip ("KVM works on this machine: there is no failure to recognise");
      return;
    }

  json = casement_host_to_json (host);
  root = json_from_string (json, &error);
  g_assert_no_error (error);
  kvm = json_object_get_object_member (json_node_get_object (root), "kvm");
  g_assert_nonnull (kvm);
  json_object_set_boolean_member (kvm, "usable", TRUE);
  g_clear_pointer (&json, g_free);
  json = json_to_string (root, FALSE);
  kvm_host = casement_host_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_true (casement_host_get_kvm_usable (kvm_host));

  slug = create_vm (store, "Accelerated", &options);
  vm = casement_vm_new (store, slug);
  if (casement_test_vm_start (vm, kvm_host, BOOT_TIMEOUT_S, &error))
    {
      /* A guest may still die later with "KVM internal error". */
      g_test_message ("QEMU started with KVM; last error: %s",
                      casement_vm_get_last_error (vm) ? casement_vm_get_last_error (vm) : "none");
      CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
      casement_test_vm_assert_no_leftovers (vm);
      g_test_skip ("QEMU could start with KVM here");
      return;
    }

  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_KVM_UNUSABLE);
  g_test_message ("KVM: %s", error->message);
  g_assert_nonnull (strstr (error->message, "TCG"));
  g_clear_error (&error);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);
  casement_test_vm_assert_no_leftovers (vm);

  /* With the real host description it runs, under TCG. */
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  casement_test_vm_assert_no_leftovers (vm);
}

#define REATTACH_NAME "Reattach"

static void
test_vm_reattach (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  CasementVm *weak = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  const VmOptions options = { 0 };
  GPid pid;

  if (g_test_subprocess ())
    {
      /* A second process: it finds the VM, refuses to start it again, and
       * drives it (pauses it), then goes away. */
      slug = casement_vm_store_lookup (store, REATTACH_NAME);
      g_assert_nonnull (slug);
      vm = casement_vm_new (store, slug);

      g_assert_false (casement_test_vm_start (vm, NULL, BOOT_TIMEOUT_S, &error));
      g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY);
      g_clear_error (&error);

      CASEMENT_TEST_ASSERT_OK (casement_test_vm_attach (vm, STEP_TIMEOUT_S, &error));
      g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);
      g_assert_cmpint (casement_vm_get_pid (vm), >, 0);
      CASEMENT_TEST_ASSERT_OK (casement_test_vm_pause (vm, STEP_TIMEOUT_S, &error));
      wait_for_state (vm, CASEMENT_VM_STATE_PAUSED, STEP_TIMEOUT_S);
      g_print ("child: paused QEMU %d\n", (int) casement_vm_get_pid (vm));
      return;
    }

  slug = create_vm (store, REATTACH_NAME, &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  pid = casement_vm_get_pid (vm);

  /* The app goes away: the VM does not. (A worker thread may hold the
   * object a moment longer.) */
  weak = vm;
  g_object_add_weak_pointer (G_OBJECT (vm), (gpointer *) &weak);
  g_clear_object (&vm);
  for (guint i = 0; weak != NULL && i < 50; i++)
    casement_test_spin (20);
  g_assert_null (weak);
  casement_test_spin (200);
  g_assert_true (casement_test_pid_alive (pid));

  g_test_trap_subprocess (NULL, BOOT_TIMEOUT_S * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*child: paused QEMU*");
  g_assert_true (casement_test_pid_alive (pid));

  /* The app comes back: it finds the VM paused, as the other process left it. */
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_attach (vm, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_PAUSED);
  g_assert_cmpint (casement_vm_get_pid (vm), ==, pid);
  g_assert_nonnull (casement_vm_get_config (vm));
  g_assert_cmpstr (casement_vm_config_get_name (casement_vm_get_config (vm)), ==, REATTACH_NAME);

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_resume (vm, STEP_TIMEOUT_S, &error));
  wait_for_state (vm, CASEMENT_VM_STATE_RUNNING, STEP_TIMEOUT_S);
  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);

  /* QEMU is not this object's child any more: its end is seen all the same. */
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_shutdown (vm, 0, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_STOPPED);
  g_assert_false (casement_test_pid_alive (pid));

  casement_test_vm_assert_no_leftovers (vm);
}

static void
test_vm_stale (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(CasementVm) fresh = NULL;
  g_autoptr(GSubprocess) sleeper = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *pidfile = NULL;
  g_autofree char *qmp = NULL;
  g_autofree char *keep = NULL;
  g_autofree char *run_dir = NULL;
  g_autofree char *dead_pid = NULL;
  const VmOptions options = { 0 };
  GPid pid;

  slug = create_vm (store, "Stale", &options);

  /* Killed while nobody watched (the app was closed). */
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  pid = casement_vm_get_pid (vm);
  g_clear_object (&vm);
  g_assert_no_errno (kill (pid, SIGKILL));
  casement_test_wait_pid_gone (pid, STEP_TIMEOUT_S);

  fresh = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_attach (fresh, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (fresh), ==, CASEMENT_VM_STATE_CRASHED);
  g_assert_nonnull (casement_vm_get_last_error (fresh));
  g_test_message ("stale: %s", casement_vm_get_last_error (fresh));
  casement_test_vm_assert_no_leftovers (fresh);
  g_clear_object (&fresh);

  /* A runtime folder as a host crash leaves it: a pidfile naming a dead
   * process, a dead socket, and a file that is not ours. Only our files go. */
  fresh = casement_vm_new (store, slug);
  run_dir = casement_vm_dup_runtime_dir (fresh, &error);
  g_assert_no_error (error);
  g_assert_no_errno (g_mkdir (run_dir, 0700));

  sleeper = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "true", NULL);
  g_assert_no_error (error);
  dead_pid = g_strdup_printf ("%s\n", g_subprocess_get_identifier (sleeper));
  g_subprocess_wait (sleeper, NULL, &error);
  g_assert_no_error (error);
  pidfile = g_build_filename (run_dir, CASEMENT_RUNTIME_PIDFILE, NULL);
  g_assert_true (g_file_set_contents (pidfile, dead_pid, -1, NULL));

  qmp = g_build_filename (run_dir, CASEMENT_RUNTIME_QMP_SOCKET, NULL);
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  address = g_unix_socket_address_new (qmp);
  CASEMENT_TEST_ASSERT_OK (g_socket_bind (socket, address, FALSE, &error));
  g_socket_close (socket, NULL);

  keep = g_build_filename (run_dir, "not-ours.txt", NULL);
  g_assert_true (g_file_set_contents (keep, "keep me", -1, NULL));

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_attach (fresh, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (fresh), ==, CASEMENT_VM_STATE_CRASHED);
  g_assert_false (g_file_test (pidfile, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (qmp, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (keep, G_FILE_TEST_EXISTS));
  g_assert_no_errno (g_unlink (keep));
  g_assert_no_errno (g_rmdir (run_dir));

  /* And it starts after that. */
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (fresh, host, BOOT_TIMEOUT_S, &error));
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (fresh, STEP_TIMEOUT_S, &error));
  casement_test_vm_assert_no_leftovers (fresh);
}

static void
test_vm_cd_change (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *iso_a = g_build_filename (g_get_user_data_dir (), "cd a.iso", NULL);
  g_autofree char *iso_b = g_build_filename (g_get_user_data_dir (), "cd, b.iso", NULL);
  VmOptions options = { .install_iso = iso_a };

  make_iso (iso_a, "CASEMENT_CD_A", "first.txt", 4096);
  make_iso (iso_b, "CASEMENT_CD_B", "second.txt", 256 * 1024);

  slug = create_vm (store, "Discs", &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, "TG: cd sr0 label=CASEMENT_CD_A", BOOT_TIMEOUT_S, NULL);

  CASEMENT_TEST_ASSERT_OK (vm_change_cd (vm, "cd-install", iso_b, &error));
  casement_test_vm_wait_serial (vm, "TG: cd sr0 label=CASEMENT_CD_B", STEP_TIMEOUT_S, NULL);
  casement_test_vm_wait_serial (vm, "TG: cd sr0 files=second.txt", STEP_TIMEOUT_S, NULL);

  CASEMENT_TEST_ASSERT_OK (vm_eject (vm, "cd-install", &error));
  casement_test_vm_wait_serial (vm, "TG: cd sr0 size=0", STEP_TIMEOUT_S, NULL);

  /* QEMU's own refusal comes back as a message. */
  g_assert_false (vm_change_cd (vm, "cd-install", "/nonexistent/casement.iso", &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_FAILED);
  g_test_message ("bad ISO: %s", error->message);
  g_assert_nonnull (strstr (error->message, "/nonexistent/casement.iso"));
  g_clear_error (&error);
  g_assert_false (vm_eject (vm, "cd-nothing", &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_FAILED);
  g_clear_error (&error);

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  casement_test_vm_assert_no_leftovers (vm);
}

static guint64
balloon_actual (CasementVm *vm)
{
  g_autoptr(JsonNode) reply = casement_test_vm_qmp (vm, "query-balloon", STEP_TIMEOUT_S);

  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply));
  return json_object_get_int_member (json_node_get_object (reply), "actual");
}

static void
test_vm_snapshot (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) snapshots = NULL;
  g_autofree char *slug = NULL;
  const VmOptions options = { .memory_mib = 512 };
  CasementVmSnapshot *snapshot;
  gint64 deadline;

  slug = create_vm (store, "Snappy", &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);
  g_assert_cmpuint (balloon_actual (vm), ==, 512 * 1024 * 1024);

  snapshots = vm_snapshot_list (vm, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (snapshots->len, ==, 0);
  g_clear_pointer (&snapshots, g_ptr_array_unref);

  g_assert_false (vm_snapshot_create (vm, "two words", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  CASEMENT_TEST_ASSERT_OK (vm_snapshot_create (vm, "before", &error));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);

  snapshots = vm_snapshot_list (vm, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (snapshots->len, ==, 1);
  snapshot = g_ptr_array_index (snapshots, 0);
  g_assert_cmpstr (snapshot->name, ==, "before");
  g_assert_cmpuint (snapshot->vm_state_size, >, 0);
  g_assert_cmpint (snapshot->date_unix, >, 0);
  g_clear_pointer (&snapshots, g_ptr_array_unref);

  g_assert_false (vm_snapshot_create (vm, "before", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  /* Change the guest: its balloon driver gives back half its memory. */
  CASEMENT_TEST_ASSERT_OK (vm_set_balloon (vm, 256 * 1024 * 1024, &error));
  deadline = g_get_monotonic_time () + STEP_TIMEOUT_S * G_USEC_PER_SEC;
  while (balloon_actual (vm) != 256 * 1024 * 1024 && g_get_monotonic_time () < deadline)
    casement_test_spin (200);
  g_assert_cmpuint (balloon_actual (vm), ==, 256 * 1024 * 1024);

  /* Back in time: the guest has all its memory again. */
  CASEMENT_TEST_ASSERT_OK (vm_snapshot_revert (vm, "before", &error));
  g_assert_cmpuint (balloon_actual (vm), ==, 512 * 1024 * 1024);
  casement_test_spin (500);
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);

  g_assert_false (vm_snapshot_revert (vm, "never-taken", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  CASEMENT_TEST_ASSERT_OK (vm_snapshot_delete (vm, "before", &error));
  snapshots = vm_snapshot_list (vm, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (snapshots->len, ==, 0);

  /* The guest still runs after all that. */
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_shutdown (vm, 0, STEP_TIMEOUT_S, &error));
  casement_test_vm_assert_no_leftovers (vm);
}

static void
test_vm_tpm (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) tpms = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *tpm_dir = NULL;
  g_autofree char *swtpm_pid_path = NULL;
  g_autofree char *swtpm_pid_text = NULL;
  const VmOptions options = { .tpm = TRUE };
  struct stat st;
  GPid swtpm_pid;

  if (casement_host_get_swtpm_path (host) == NULL)
    {
      g_test_skip ("swtpm is not installed");
      return;
    }

  slug = create_vm (store, "Trusted", &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));

  tpms = casement_test_vm_qmp (vm, "query-tpm", STEP_TIMEOUT_S);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (tpms));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (tpms)), ==, 1);

  tpm_dir = casement_test_vm_file (vm, CASEMENT_VM_TPM_DIR);
  g_assert_no_errno (g_stat (tpm_dir, &st));
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  swtpm_pid_path = casement_test_vm_runtime_file (vm, "swtpm.pid");
  g_assert_true (g_file_get_contents (swtpm_pid_path, &swtpm_pid_text, NULL, NULL));
  swtpm_pid = (GPid) g_ascii_strtoll (swtpm_pid_text, NULL, 10);
  g_assert_true (casement_test_pid_alive (swtpm_pid));

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  g_assert_false (casement_test_pid_alive (swtpm_pid));
  casement_test_vm_assert_no_leftovers (vm);
}

static void
test_vm_virtiofs_snapshot (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *share = g_build_filename (g_get_user_data_dir (), "shared, folder", NULL);
  g_autofree char *pid_path = NULL;
  g_autofree char *pid_text = NULL;
  const VmOptions options = { .share_folder = share, .cmdline_extra = "tg.virtiofs=casement" };
  GPid virtiofsd;

  if (getuid () != 0)
    {
      g_test_skip ("QEMU 7.2's virtiofsd needs root");
      return;
    }
  if (!casement_host_get_virtiofsd_usable (host))
    {
      g_test_skip ("no usable virtiofsd");
      return;
    }

  g_assert_no_errno (g_mkdir_with_parents (share, 0755));

  slug = create_vm (store, "Sharing", &options);
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_start (vm, host, BOOT_TIMEOUT_S, &error));
  pid_path = casement_test_vm_runtime_file (vm, "virtiofsd.pid");
  g_assert_true (g_file_get_contents (pid_path, &pid_text, NULL, NULL));
  virtiofsd = (GPid) g_ascii_strtoll (pid_text, NULL, 10);
  g_assert_true (casement_test_pid_alive (virtiofsd));
  casement_test_vm_wait_serial (vm, "TG: virtiofs mounted", BOOT_TIMEOUT_S, NULL);

  g_assert_false (vm_snapshot_create (vm, "shared", &error));
  g_assert_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_SNAPSHOT_UNSUPPORTED);
  g_test_message ("virtiofs snapshot: %s", error->message);
  g_assert_nonnull (strstr (error->message, "virtiofs"));
  g_clear_error (&error);

  CASEMENT_TEST_ASSERT_OK (casement_test_vm_shutdown (vm, 0, STEP_TIMEOUT_S, &error));
  g_assert_false (casement_test_pid_alive (virtiofsd));
  casement_test_vm_assert_no_leftovers (vm);
}

/* Runs casementctl with @args; returns its exit status, and its output
 * in @out and @err. */
static int
run_ctl (char       **out,
         char       **err,
         const char  *first_arg,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) ctl = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *env_ctl = g_getenv ("CASEMENTCTL");
  const char *arg;
  va_list ap;

  if (env_ctl != NULL)
    g_ptr_array_add (argv, g_strdup (env_ctl));
  else
    g_ptr_array_add (argv, g_test_build_filename (G_TEST_BUILT, "..", "src", "ctl", "casementctl", NULL));

  va_start (ap, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* Debug messages would go to its standard output. */
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  ctl = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  /* Asynchronously: QMP events for this process's own VM object keep
   * arriving meanwhile. */
  g_subprocess_communicate_utf8_async (ctl, NULL, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, BOOT_TIMEOUT_S + STEP_TIMEOUT_S, "casementctl");
  g_subprocess_communicate_utf8_finish (ctl, result, out, err, &error);
  g_assert_no_error (error);
  g_test_message ("casementctl %s: exit %d%s%s", first_arg, g_subprocess_get_exit_status (ctl),
                  *err && **err ? ": " : "", *err ? *err : "");

  return g_subprocess_get_exit_status (ctl);
}

static void
test_vm_casementctl (void)
{
  g_autoptr(CasementVmStore) store = casement_vm_store_new (NULL);
  g_autoptr(CasementVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) waiter = NULL;
  g_autoptr(GAsyncResult) waited = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *png = g_build_filename (g_get_user_data_dir (), "ctl shot.png", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *ctl_path = NULL;
  const VmOptions options = { 0 };
  const char *env_ctl = g_getenv ("CASEMENTCTL");
  gsize len = 0;

#define CTL(...)                                                                 \
  G_STMT_START {                                                                 \
    g_clear_pointer (&out, g_free);                                              \
    g_clear_pointer (&err, g_free);                                              \
    exit_status = run_ctl (&out, &err, __VA_ARGS__, NULL);                       \
  } G_STMT_END
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int exit_status;

  slug = create_vm (store, "Scripted", &options);

  CTL ("status", "Scripted");
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_cmpstr (out, ==, "stopped\n");
  CTL ("pause", "Scripted");
  g_assert_cmpint (exit_status, ==, 1);
  g_assert_nonnull (strstr (err, "not running"));

  CTL ("start", "Scripted");
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_nonnull (strstr (out, "Started"));

  /* The window of the app (this process) holds qmp.sock; the commands
   * work all the same, over qmp-cli.sock. */
  vm = casement_vm_new (store, slug);
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_attach (vm, STEP_TIMEOUT_S, &error));
  g_assert_cmpint (casement_vm_get_state (vm), ==, CASEMENT_VM_STATE_RUNNING);

  CTL ("start", "Scripted");
  g_assert_cmpint (exit_status, ==, 1);
  g_assert_nonnull (strstr (err, "already running"));

  CTL ("status", "Scripted");
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_cmpstr (out, ==, "running\n");

  CTL ("pause", "Scripted");
  g_assert_cmpint (exit_status, ==, 0);
  wait_for_state (vm, CASEMENT_VM_STATE_PAUSED, STEP_TIMEOUT_S);
  CTL ("status", "Scripted");
  g_assert_cmpstr (out, ==, "paused\n");
  CTL ("resume", "Scripted");
  g_assert_cmpint (exit_status, ==, 0);
  wait_for_state (vm, CASEMENT_VM_STATE_RUNNING, STEP_TIMEOUT_S);

  CTL ("qmp", "Scripted", "{\"execute\": \"query-status\"}");
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_nonnull (strstr (out, "\"running\""));
  CTL ("qmp", "Scripted", "{\"execute\": \"no-such-command\"}");
  g_assert_cmpint (exit_status, ==, 1);
  g_assert_nonnull (strstr (err, "no-such-command"));
  CTL ("qmp", "Scripted", "not json");
  g_assert_cmpint (exit_status, ==, 2);

  casement_test_vm_wait_serial (vm, "TG: ready", BOOT_TIMEOUT_S, NULL);
  CTL ("screenshot", "Scripted", png);
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_true (g_file_get_contents (png, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 24);
  g_assert_cmpuint (read_be32 ((guint8 *) contents + 16), ==, 1280);
  g_assert_cmpuint (read_be32 ((guint8 *) contents + 20), ==, 800);

  CTL ("snapshot", "Scripted", "create", "from-ctl");
  g_assert_cmpint (exit_status, ==, 0);
  CTL ("snapshot", "Scripted", "list");
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_true (g_str_has_prefix (out, "from-ctl\t"));
  CTL ("snapshot", "Scripted", "delete", "from-ctl");
  g_assert_cmpint (exit_status, ==, 0);
  CTL ("snapshot", "Scripted", "list");
  g_assert_cmpstr (out, ==, "");
  CTL ("snapshot", "Scripted", "rename", "x");
  g_assert_cmpint (exit_status, ==, 2);

  CTL ("stop", "Scripted");
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_nonnull (strstr (out, "shut down"));
  wait_for_state (vm, CASEMENT_VM_STATE_STOPPED, STEP_TIMEOUT_S);
  CTL ("status", "Scripted");
  g_assert_cmpstr (out, ==, "stopped\n");
  casement_test_vm_assert_no_leftovers (vm);

  /* start --wait stays until the VM has stopped, however that happens:
   * here the app forces it off. */
  ctl_path = env_ctl ? g_strdup (env_ctl)
                     : g_test_build_filename (G_TEST_BUILT, "..", "src", "ctl", "casementctl", NULL);
  waiter = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                             ctl_path, "start", "Scripted", "--wait", NULL);
  g_assert_no_error (error);
  g_clear_object (&vm);
  vm = casement_vm_new (store, slug);
  /* Until then it is starting, or "being started by another process". */
  for (guint i = 0; casement_vm_get_state (vm) != CASEMENT_VM_STATE_RUNNING; i++)
    {
      g_autoptr(GError) attach_error = NULL;

      g_assert_cmpuint (i, <, BOOT_TIMEOUT_S * 5);
      casement_test_spin (200);
      if (!casement_test_vm_attach (vm, STEP_TIMEOUT_S, &attach_error))
        g_assert_error (attach_error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY);
    }
  CASEMENT_TEST_ASSERT_OK (casement_test_vm_force_off (vm, STEP_TIMEOUT_S, &error));
  g_subprocess_communicate_utf8_async (waiter, NULL, NULL, casement_test_store_result_cb, &waited);
  casement_test_await_result (&waited, STEP_TIMEOUT_S, "casementctl start --wait");
  g_subprocess_communicate_utf8_finish (waiter, waited, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (waiter), ==, 0);
  g_assert_nonnull (strstr (out, "has stopped"));

  casement_test_vm_assert_no_leftovers (vm);
#undef CTL
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(CasementTestGuestEnv) env = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *env_dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  if (!casement_test_guest_ensure (NULL, NULL, &error))
    g_error ("%s", error->message);

  /* A subprocess test works in its parent's folders: it inherits them
   * through XDG_DATA_HOME and XDG_RUNTIME_DIR. */
  if (!g_test_subprocess ())
    {
      if (!(env = casement_test_guest_env_new (&error)))
        g_error ("%s", error->message);

      host = casement_host_probe (NULL, &error);
      g_assert_no_error (error);
    }

  env_dir = g_path_get_dirname (g_get_user_data_dir ());
  casement_test_kill_on_abort (env_dir);

  g_test_add_func ("/Casement/Vm/lifecycle", test_vm_lifecycle);
  g_test_add_func ("/Casement/Vm/shutdown-timeout", test_vm_shutdown_timeout);
  g_test_add_func ("/Casement/Vm/crash", test_vm_crash);
  g_test_add_func ("/Casement/Vm/start-errors", test_vm_start_errors);
  g_test_add_func ("/Casement/Vm/socket-in-use", test_vm_socket_in_use);
  g_test_add_func ("/Casement/Vm/kvm-unusable", test_vm_kvm_unusable);
  g_test_add_func ("/Casement/Vm/reattach", test_vm_reattach);
  g_test_add_func ("/Casement/Vm/stale", test_vm_stale);
  g_test_add_func ("/Casement/Vm/cd-change", test_vm_cd_change);
  g_test_add_func ("/Casement/Vm/snapshot", test_vm_snapshot);
  g_test_add_func ("/Casement/Vm/tpm", test_vm_tpm);
  g_test_add_func ("/Casement/Vm/virtiofs-snapshot", test_vm_virtiofs_snapshot);
  g_test_add_func ("/Casement/Vm/casementctl", test_vm_casementctl);

  status = g_test_run ();

  g_clear_object (&host);

  return status;
}
