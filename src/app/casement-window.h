/* casement-window.h
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

#include "casement-library.h"

G_BEGIN_DECLS

#define CASEMENT_TYPE_WINDOW (casement_window_get_type ())

G_DECLARE_FINAL_TYPE (CasementWindow, casement_window, CASEMENT, WINDOW, AdwApplicationWindow)

CasementWindow *casement_window_new          (AdwApplication  *application,
                                              CasementLibrary *library);
void            casement_window_reload       (CasementWindow  *self);
void            casement_window_add_toast    (CasementWindow  *self,
                                              AdwToast        *toast);
/* Shut Down, followed where the user looks after closing a VM's window:
 * the VM's row says "Shutting down…" meanwhile, and a toast offers force
 * off when the guest does not power off within the shutdown timeout. */
void            casement_window_shut_down_vm (CasementWindow  *self,
                                              CasementVm      *vm);
/* Returns: (transfer none) (nullable): the host as probed when the window
 * opened; NULL until the probe is done, or when it failed. */
CasementHost   *casement_window_get_host     (CasementWindow  *self);

G_END_DECLS
