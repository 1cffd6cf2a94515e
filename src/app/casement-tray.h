/* casement-tray.h
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

#include "casement-library.h"

G_BEGIN_DECLS

/* Where the tray icon stands with the desktop's StatusNotifierWatcher. */
typedef enum
{
  CASEMENT_TRAY_STATE_HIDDEN = 0,   /* not exported: "visible" is off, or no session bus */
  CASEMENT_TRAY_STATE_WAITING,      /* exported; no watcher on the bus (or it refused us) */
  CASEMENT_TRAY_STATE_REGISTERING,  /* RegisterStatusNotifierItem is on its way */
  CASEMENT_TRAY_STATE_REGISTERED,   /* the watcher knows the item */
} CasementTrayState;

#define CASEMENT_TYPE_TRAY_STATE (casement_tray_state_get_type ())
#define CASEMENT_TYPE_TRAY       (casement_tray_get_type ())

GType casement_tray_state_get_type (void) G_GNUC_CONST;

G_DECLARE_FINAL_TYPE (CasementTray, casement_tray, CASEMENT, TRAY, GObject)

/* The tray icon (an org.kde.StatusNotifierItem with a com.canonical.dbusmenu
 * menu, one submenu per VM of @library) on @application's session bus
 * connection, and what keeps the application alive in the background:
 * it holds @application while a VM runs or while a tray host shows the
 * icon, and sends notifications about VMs whose window is not shown.
 *
 * It adds these actions to @application, behind its menu and
 * notifications: "start-vm", "shut-down-vm", "force-off-vm" and
 * "show-vm-log" (each with a VM's slug), and "show-library". Its menu
 * also activates the application's own "open-vm" (slug), "new-vm" and
 * "quit" actions. The icon is exported once "visible" is set. */
CasementTray      *casement_tray_new                  (GApplication    *application,
                                                       CasementLibrary *library);

gboolean           casement_tray_get_visible          (CasementTray    *self);
void               casement_tray_set_visible          (CasementTray    *self,
                                                       gboolean         visible);
/* Seconds a guest gets to power off when shut down from the tray before
 * the tray offers to force it off; 0 means CASEMENT_VM_DEFAULT_SHUTDOWN_TIMEOUT. */
guint              casement_tray_get_shutdown_timeout (CasementTray    *self);
void               casement_tray_set_shutdown_timeout (CasementTray    *self,
                                                       guint            seconds);
CasementTrayState  casement_tray_get_state            (CasementTray    *self);
/* Whether a tray host (a panel) shows the icon: the watcher has the item
 * and says a host is registered. Without one, closing the last window
 * leaves VMs running with a notification saying so. */
gboolean           casement_tray_get_has_host         (CasementTray    *self);
/* The bus name the item owns while exported ("org.kde.StatusNotifierItem-<pid>-<n>"), else NULL. */
const char        *casement_tray_get_bus_name         (CasementTray    *self);

G_END_DECLS
