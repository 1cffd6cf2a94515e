/* casement-vm-store.h
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

#include "casement-vm-config.h"

G_BEGIN_DECLS

#define CASEMENT_VM_STORE_ERROR (casement_vm_store_error_quark ())

typedef enum
{
  CASEMENT_VM_STORE_ERROR_NOT_FOUND = 1,  /* no VM by that name or slug */
  CASEMENT_VM_STORE_ERROR_EXISTS,         /* a VM with that name already exists */
  CASEMENT_VM_STORE_ERROR_CORRUPT,        /* vm.json unreadable; kept as it is */
} CasementVmStoreError;

#define CASEMENT_TYPE_VM_STORE (casement_vm_store_get_type ())

G_DECLARE_FINAL_TYPE (CasementVmStore, casement_vm_store, CASEMENT, VM_STORE, GObject)

GQuark             casement_vm_store_error_quark   (void) G_GNUC_CONST;

/* @root: the folder holding one folder per VM; NULL for the default,
 * $XDG_DATA_HOME/casement/vms. All functions but create_async block on
 * file I/O (the GUI calls them from a worker thread); the store holds no
 * state besides its root, so that is safe. */
CasementVmStore   *casement_vm_store_new           (const char          *root);
const char        *casement_vm_store_get_root      (CasementVmStore     *self);

/* Folder names (slugs) of the VMs, sorted; a folder whose vm.json is corrupt
 * is still listed (loading it reports the problem). */
char             **casement_vm_store_list          (CasementVmStore     *self,
                                                    GError             **error);
/* Finds a VM by slug, or by its display name. Returns its slug or NULL. */
char              *casement_vm_store_lookup        (CasementVmStore     *self,
                                                    const char          *name_or_slug);
/* The unique slug a new VM called @name would get ("Windows 11" → "windows-11",
 * "windows-11-2" when taken; non-ASCII names are transliterated, or hashed
 * when nothing ASCII is left). */
char              *casement_vm_store_make_slug     (CasementVmStore     *self,
                                                    const char          *name);
char              *casement_vm_store_dup_vm_dir    (CasementVmStore     *self,
                                                    const char          *slug);
CasementVmConfig  *casement_vm_store_load          (CasementVmStore     *self,
                                                    const char          *slug,
                                                    GError             **error);
gboolean           casement_vm_store_save          (CasementVmStore     *self,
                                                    const char          *slug,
                                                    CasementVmConfig    *config,
                                                    GError             **error);

/* Creates the VM's folder with its disk (qemu-img, when the config has a disk
 * size) and vm.json, all in a staging folder renamed into place at the end:
 * a failure or cancellation leaves nothing behind. Returns the slug. */
void               casement_vm_store_create_async  (CasementVmStore     *self,
                                                    CasementVmConfig    *config,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
char              *casement_vm_store_create_finish (CasementVmStore     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

/* Removes the VM's folder. With @keep_disk, the disk image is first moved
 * next to the library as "<slug>.qcow2" (its new path is returned in
 * @kept_disk_path) so the user's data survives. */
gboolean           casement_vm_store_delete        (CasementVmStore     *self,
                                                    const char          *slug,
                                                    gboolean             keep_disk,
                                                    char               **kept_disk_path,
                                                    GError             **error);

G_END_DECLS
