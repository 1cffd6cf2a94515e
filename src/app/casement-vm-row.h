/* casement-vm-row.h
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

#include <adwaita.h>

#include "casement-vm.h"

G_BEGIN_DECLS

#define CASEMENT_TYPE_VM_ROW (casement_vm_row_get_type ())

G_DECLARE_FINAL_TYPE (CasementVmRow, casement_vm_row, CASEMENT, VM_ROW, AdwActionRow)

GtkWidget  *casement_vm_row_new                   (CasementVm          *vm);
CasementVm *casement_vm_row_get_vm                (CasementVmRow       *self);
/* Set while the library window waits for the VM to shut down: the row
 * says "Shutting down…" even as QEMU still reports the guest running. */
void        casement_vm_row_set_shutting_down     (CasementVmRow       *self,
                                                   gboolean             shutting_down);

/* A translated word for @state, e.g. "Running". */
const char *casement_vm_state_to_label            (CasementVmState      state);

/* The VM's last screen, in its folder, shown by its row in the library. */
#define CASEMENT_VM_THUMBNAIL_FILE "thumbnail.png"

char       *casement_vm_row_dup_thumbnail_path    (CasementVm          *vm);
/* Keeps @vm's screen (RUNNING or PAUSED) as its thumbnail: what each
 * Shut Down and Keep Running of the app does before the VM goes out of
 * sight. Fails as casement_vm_screendump_async() does. */
void        casement_vm_row_save_thumbnail_async  (CasementVm          *vm,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    casement_vm_row_save_thumbnail_finish (CasementVm          *vm,
                                                   GAsyncResult        *result,
                                                   GError             **error);
/* What each Shut Down of the app does (library, VM window, tray, quit):
 * keeps the screen as the thumbnail, resumes a paused guest (it could not
 * see the power button), then casement_vm_shutdown_async() with
 * @timeout_seconds (0: CASEMENT_VM_DEFAULT_SHUTDOWN_TIMEOUT). Fails as
 * those do (CASEMENT_VM_ERROR_TIMEOUT: force off is up to the caller). */
void        casement_vm_row_shut_down_async       (CasementVm          *vm,
                                                   guint                timeout_seconds,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean    casement_vm_row_shut_down_finish      (CasementVm          *vm,
                                                   GAsyncResult        *result,
                                                   GError             **error);

G_END_DECLS
