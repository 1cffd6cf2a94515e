/* casement-qemu-command.h
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

#include <gio/gio.h>

#include "casement-host.h"
#include "casement-vm-config.h"

G_BEGIN_DECLS

/* File names inside a VM's runtime folder (DESIGN §2). One definition, used
 * by the argv builder and by everything that talks to the running VM. */
#define CASEMENT_RUNTIME_QMP_SOCKET      "qmp.sock"
#define CASEMENT_RUNTIME_QMP_CLI_SOCKET  "qmp-cli.sock"
#define CASEMENT_RUNTIME_SPICE_SOCKET    "spice.sock"
#define CASEMENT_RUNTIME_SWTPM_SOCKET    "swtpm.sock"
#define CASEMENT_RUNTIME_VIRTIOFS_SOCKET "virtiofs.sock"
#define CASEMENT_RUNTIME_QGA_SOCKET      "qga.sock"
#define CASEMENT_RUNTIME_PIDFILE         "qemu.pid"

/* File names inside a VM's data folder. */
#define CASEMENT_VM_CONFIG_FILE          "vm.json"
#define CASEMENT_VM_EFIVARS_FILE         "efivars.qcow2"
#define CASEMENT_VM_TPM_DIR              "tpm"
#define CASEMENT_VM_SERIAL_LOG           "serial.log"
#define CASEMENT_VM_QEMU_LOG             "qemu.log"

#define CASEMENT_QEMU_COMMAND_ERROR (casement_qemu_command_error_quark ())

typedef enum
{
  CASEMENT_QEMU_COMMAND_ERROR_MISSING = 1,  /* a needed host piece (firmware, swtpm, …) is absent */
  CASEMENT_QEMU_COMMAND_ERROR_PATH,         /* a path cannot be used (socket path too long, …) */
  CASEMENT_QEMU_COMMAND_ERROR_INVALID,      /* the config asks for something QEMU cannot do */
} CasementQemuCommandError;

GQuark               casement_qemu_command_error_quark  (void) G_GNUC_CONST;

/* Writes @value for QEMU's option syntax: every ',' doubled. */
char                *casement_qemu_escape               (const char        *value);

/* The single place the QEMU command line is made (DESIGN §3). Pure: reads
 * @config and @host, touches no file. @vm_dir is the VM's data folder,
 * @runtime_dir its runtime folder (sockets, pidfile). */
char               **casement_qemu_command_build        (CasementVmConfig  *config,
                                                         CasementHost      *host,
                                                         const char        *vm_dir,
                                                         const char        *runtime_dir,
                                                         GError           **error);

/* Picks the share method for @config on @host when it says AUTO, and says
 * why in @reason (translated). Returns the method as is otherwise. */
CasementShareMethod  casement_qemu_command_resolve_share (CasementVmConfig  *config,
                                                          CasementHost      *host,
                                                          char             **reason);

G_END_DECLS
