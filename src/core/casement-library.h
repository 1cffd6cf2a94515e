/* casement-library.h
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

#include "casement-vm.h"
#include "casement-vm-store.h"

G_BEGIN_DECLS

#define CASEMENT_TYPE_LIBRARY (casement_library_get_type ())

G_DECLARE_FINAL_TYPE (CasementLibrary, casement_library, CASEMENT, LIBRARY, GObject)

/* The live VMs of a store: a GListModel of CasementVm, one object per VM
 * folder, shared by every window and the tray so they all see one state.
 * Sorted by slug. */
CasementLibrary   *casement_library_new            (CasementVmStore      *store);
CasementVmStore   *casement_library_get_store      (CasementLibrary      *self);

/* Re-reads the store's folders (in a worker thread): new VMs are added and
 * attached to (a VM that still runs from an earlier session is found),
 * removed ones dropped. */
void               casement_library_reload_async   (CasementLibrary      *self,
                                                    GCancellable         *cancellable,
                                                    GAsyncReadyCallback   callback,
                                                    gpointer              user_data);
gboolean           casement_library_reload_finish  (CasementLibrary      *self,
                                                    GAsyncResult         *result,
                                                    GError              **error);

/* Returns: (transfer none) (nullable) */
CasementVm        *casement_library_lookup         (CasementLibrary      *self,
                                                    const char           *slug);
/* How many VMs are RUNNING, PAUSED, STARTING or STOPPING. */
guint              casement_library_count_active   (CasementLibrary      *self);

G_END_DECLS
