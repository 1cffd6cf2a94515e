/* casement-wizard.h
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
#include "casement-library.h"

G_BEGIN_DECLS

/* The pages, in the order the user goes through them. */
typedef enum
{
  CASEMENT_WIZARD_PAGE_INSTALL_MEDIA = 0,  /* the Windows ISO */
  CASEMENT_WIZARD_PAGE_DRIVERS,            /* the virtio-win ISO */
  CASEMENT_WIZARD_PAGE_HARDWARE,           /* name, processors, memory, disk */
  CASEMENT_WIZARD_PAGE_SHARE,              /* a host folder for the guest */
  CASEMENT_WIZARD_PAGE_INSTALL,            /* express or manual installation */
  CASEMENT_WIZARD_PAGE_SUMMARY,            /* every choice, and Create */
  CASEMENT_WIZARD_PAGE_PROGRESS,           /* creation and start */
} CasementWizardPage;

typedef enum
{
  CASEMENT_WIZARD_STATE_EDITING = 0,   /* on the pages before Create */
  CASEMENT_WIZARD_STATE_CREATING,      /* making the VM's folder, disk, firmware variables, … */
  CASEMENT_WIZARD_STATE_FAILED,        /* creation failed and nothing of it was left behind */
  CASEMENT_WIZARD_STATE_STARTING,      /* the VM exists; QEMU is being started */
  CASEMENT_WIZARD_STATE_START_FAILED,  /* the VM exists, but did not start */
  CASEMENT_WIZARD_STATE_DONE,          /* it runs, and its window was asked for */
} CasementWizardState;

#define CASEMENT_TYPE_WIZARD (casement_wizard_get_type ())

G_DECLARE_FINAL_TYPE (CasementWizard, casement_wizard, CASEMENT, WIZARD, AdwWindow)

/* A wizard modal to @parent that adds a VM to @library. @host may be NULL:
 * the host is then probed in the background. Once the VM runs, the wizard
 * opens its window through the "app.open-vm" action and closes. */
CasementWizard      *casement_wizard_new              (GtkWindow       *parent,
                                                       CasementLibrary *library,
                                                       CasementHost    *host);

/* What the file choosers and drag-and-drop call: a Windows installation
 * ISO, the virtio-win ISO, and the folder to share (NULL for none). Each
 * is checked in the background; the pages show the outcome. */
void                 casement_wizard_set_install_iso  (CasementWizard  *self,
                                                       GFile           *iso);
void                 casement_wizard_set_drivers_iso  (CasementWizard  *self,
                                                       GFile           *iso);
void                 casement_wizard_set_share_folder (CasementWizard  *self,
                                                       GFile           *folder);
/* The WinFsp installer (winfsp-*.msi) the answer medium carries for a
 * virtiofs share when the virtio-win disc lacks one. Remembered for the
 * next VMs once it checks out. */
void                 casement_wizard_set_winfsp_installer (CasementWizard *self,
                                                           GFile          *msi);

CasementWizardPage   casement_wizard_get_page         (CasementWizard  *self);
CasementWizardState  casement_wizard_get_state        (CasementWizard  *self);
/* Why Next (or Create) cannot be used now, translated, as shown next to
 * the button; NULL when it can. */
const char          *casement_wizard_get_blocker      (CasementWizard  *self);
/* TRUE while a background check (ISO, drivers, name, free space, host)
 * has not answered yet. */
gboolean             casement_wizard_is_busy          (CasementWizard  *self);
/* The new VM's slug once it was created, else NULL. */
const char          *casement_wizard_get_slug         (CasementWizard  *self);

G_END_DECLS
