/* casement-vm-settings.h
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

#include "casement-host.h"
#include "casement-vm.h"

G_BEGIN_DECLS

/* What the settings window is doing. Changes are saved one at a time. */
typedef enum
{
  CASEMENT_VM_SETTINGS_STATE_LOADING = 0, /* reading vm.json, the disk and the host */
  CASEMENT_VM_SETTINGS_STATE_EDITING,     /* idle: every change is saved at once */
  CASEMENT_VM_SETTINGS_STATE_SAVING,      /* writing vm.json */
  CASEMENT_VM_SETTINGS_STATE_GROWING,     /* qemu-img is growing the disk */
  CASEMENT_VM_SETTINGS_STATE_LOCKED,      /* the VM runs: nothing can change until it stops */
  CASEMENT_VM_SETTINGS_STATE_BROKEN,      /* vm.json could not be read; nothing is written */
} CasementVmSettingsState;

#define CASEMENT_TYPE_VM_SETTINGS_STATE (casement_vm_settings_state_get_type ())
#define CASEMENT_TYPE_VM_SETTINGS       (casement_vm_settings_get_type ())

GType casement_vm_settings_state_get_type (void) G_GNUC_CONST;

G_DECLARE_FINAL_TYPE (CasementVmSettings, casement_vm_settings, CASEMENT, VM_SETTINGS, AdwPreferencesWindow)

/* The settings of a stopped VM, saved to its vm.json (through its store)
 * as they change. @host bounds CPUs and memory and explains the share
 * method; NULL probes the host. */
CasementVmSettings      *casement_vm_settings_new       (GtkWindow          *parent,
                                                         CasementVm         *vm,
                                                         CasementHost       *host);
/* Presents the settings window already open for @vm, or a new one. */
CasementVmSettings      *casement_vm_settings_show      (GtkWindow          *parent,
                                                         CasementVm         *vm,
                                                         CasementHost       *host);
CasementVm              *casement_vm_settings_get_vm    (CasementVmSettings *self);
CasementVmSettingsState  casement_vm_settings_get_state (CasementVmSettings *self);
/* Why the last change could not be saved (translated), or NULL once a
 * save succeeded. */
const char              *casement_vm_settings_get_error (CasementVmSettings *self);

G_END_DECLS
