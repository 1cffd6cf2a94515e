/* casement-test-vm.h
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

#pragma once

#include <json-glib/json-glib.h>

#include "casement-vm.h"

G_BEGIN_DECLS

/* A VM of the test guest (casement-test-guest.h) as a test looks at it:
 * its files, its serial log, QMP, what it leaves behind. Each call runs
 * the main context while it waits and fails the test when something
 * goes wrong; for test programs only. */

/* @name inside the VM's folder (vm.json, disk.qcow2, the serial log). */
char      *casement_test_vm_file                 (CasementVm  *vm,
                                                  const char  *name);

/* @name inside the VM's runtime folder (its sockets, the pidfile). */
char      *casement_test_vm_runtime_file         (CasementVm  *vm,
                                                  const char  *name);

/* Waits until a line of the guest's serial log matches @regex (see
 * casement_test_guest_wait_serial()); @line (optional) receives it. */
void       casement_test_vm_wait_serial          (CasementVm  *vm,
                                                  const char  *regex,
                                                  guint        timeout_s,
                                                  char       **line);

/* Runs @command (no arguments) on the VM's QMP connection; returns the
 * reply's "return" value. */
JsonNode  *casement_test_vm_qmp                  (CasementVm  *vm,
                                                  const char  *command,
                                                  guint        timeout_s);

/* The VM's controls as synchronous calls: the main context runs while
 * they wait (QMP events keep arriving), and each fails the test after
 * @timeout_s; what the control itself reports comes back in @error. */
gboolean   casement_test_vm_start                (CasementVm    *vm,
                                                  CasementHost  *host,
                                                  guint          timeout_s,
                                                  GError       **error);
gboolean   casement_test_vm_attach               (CasementVm    *vm,
                                                  guint          timeout_s,
                                                  GError       **error);
gboolean   casement_test_vm_pause                (CasementVm    *vm,
                                                  guint          timeout_s,
                                                  GError       **error);
gboolean   casement_test_vm_resume               (CasementVm    *vm,
                                                  guint          timeout_s,
                                                  GError       **error);
gboolean   casement_test_vm_reset                (CasementVm    *vm,
                                                  guint          timeout_s,
                                                  GError       **error);
gboolean   casement_test_vm_force_off            (CasementVm    *vm,
                                                  guint          timeout_s,
                                                  GError       **error);
/* Waits @shutdown_timeout_s for the guest to power off after the ACPI
 * button (casement_vm_shutdown_async()), plus @timeout_s. */
gboolean   casement_test_vm_shutdown             (CasementVm    *vm,
                                                  guint          shutdown_timeout_s,
                                                  guint          timeout_s,
                                                  GError       **error);

/* The end of every VM test: no process of the VM is left (QEMU, swtpm,
 * virtiofsd), and neither is its runtime folder. */
void       casement_test_vm_assert_no_leftovers  (CasementVm  *vm);

G_END_DECLS
