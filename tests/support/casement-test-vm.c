/* casement-test-vm.c
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

#define G_LOG_DOMAIN "casement-test-vm"

#include "config.h"

#include "casement-qemu-command.h"
#include "casement-test-guest.h"
#include "casement-test-util.h"
#include "casement-test-vm.h"

/* Our own children are reaped by GLib's worker a moment after they end,
 * and the C virtiofsd's sandboxed half ends after its parent. */
#define LEFTOVER_TIMEOUT_S 5

char *
casement_test_vm_file (CasementVm *vm,
                       const char *name)
{
  g_autofree char *vm_dir = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM (vm), NULL);

  vm_dir = casement_vm_dup_vm_dir (vm);
  return g_build_filename (vm_dir, name, NULL);
}

char *
casement_test_vm_runtime_file (CasementVm *vm,
                               const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *run_dir = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM (vm), NULL);

  run_dir = casement_vm_dup_runtime_dir (vm, &error);
  g_assert_no_error (error);
  return g_build_filename (run_dir, name, NULL);
}

void
casement_test_vm_wait_serial (CasementVm  *vm,
                              const char  *regex,
                              guint        timeout_s,
                              char       **line)
{
  g_autofree char *serial = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (CASEMENT_IS_VM (vm));

  serial = casement_test_vm_file (vm, CASEMENT_VM_SERIAL_LOG);
  casement_test_guest_wait_serial (serial, regex, timeout_s * 1000, line, &error);
  g_assert_no_error (error);
}

JsonNode *
casement_test_vm_qmp (CasementVm *vm,
                      const char *command,
                      guint       timeout_s)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  CasementQmpClient *qmp;
  JsonNode *reply;

  g_return_val_if_fail (CASEMENT_IS_VM (vm), NULL);

  qmp = casement_vm_get_qmp_client (vm);
  g_assert_nonnull (qmp);
  casement_qmp_client_execute_async (qmp, command, NULL, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, timeout_s, command);
  reply = casement_qmp_client_execute_finish (qmp, result, &error);
  g_assert_no_error (error);

  return reply;
}

gboolean
casement_test_vm_start (CasementVm    *vm,
                        CasementHost  *host,
                        guint          timeout_s,
                        GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM (vm), FALSE);

  casement_vm_start_async (vm, host, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, timeout_s, "start");
  return casement_vm_start_finish (vm, result, error);
}

gboolean
casement_test_vm_shutdown (CasementVm  *vm,
                           guint        shutdown_timeout_s,
                           guint        timeout_s,
                           GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM (vm), FALSE);

  casement_vm_shutdown_async (vm, shutdown_timeout_s, NULL, casement_test_store_result_cb, &result);
  casement_test_await_result (&result, shutdown_timeout_s + timeout_s, "shutdown");
  return casement_vm_shutdown_finish (vm, result, error);
}

#define SIMPLE_CONTROL(name)                                                       \
  gboolean                                                                         \
  casement_test_vm_##name (CasementVm  *vm,                                        \
                           guint        timeout_s,                                 \
                           GError     **error)                                     \
  {                                                                                \
    g_autoptr(GAsyncResult) result = NULL;                                         \
                                                                                   \
    g_return_val_if_fail (CASEMENT_IS_VM (vm), FALSE);                             \
                                                                                   \
    casement_vm_##name##_async (vm, NULL, casement_test_store_result_cb, &result); \
    casement_test_await_result (&result, timeout_s, #name);                        \
    return casement_vm_##name##_finish (vm, result, error);                        \
  }

SIMPLE_CONTROL (attach)
SIMPLE_CONTROL (pause)
SIMPLE_CONTROL (resume)
SIMPLE_CONTROL (reset)
SIMPLE_CONTROL (force_off)

void
casement_test_vm_assert_no_leftovers (CasementVm *vm)
{
  g_autofree char *vm_dir = NULL;
  g_autofree char *run_dir = NULL;

  g_return_if_fail (CASEMENT_IS_VM (vm));

  vm_dir = casement_vm_dup_vm_dir (vm);
  run_dir = casement_test_vm_runtime_file (vm, "");
  casement_test_assert_no_processes (vm_dir, LEFTOVER_TIMEOUT_S);
  casement_test_assert_no_processes (run_dir, LEFTOVER_TIMEOUT_S);

  if (g_file_test (run_dir, G_FILE_TEST_EXISTS))
    {
      g_autoptr(GDir) dir = g_dir_open (run_dir, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)))
        g_test_message ("left in %s: %s", run_dir, name);
      g_test_fail_printf ("The runtime folder %s is still there", run_dir);
    }
}
