/* casement-settings.h
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

#include "casement-vm-store.h"

G_BEGIN_DECLS

/* Casement's preferences (the APP_ID schema), shared by the app and
 * casementctl; NULL where the schema is not installed (uninstalled runs,
 * tests without GSETTINGS_SCHEMA_DIR), which then get the defaults. */
GSettings       *casement_settings_new          (void);

/* The store of the library: the "vm-folder" preference of @settings, or
 * the default folder when it is empty or @settings is NULL. */
CasementVmStore *casement_settings_new_vm_store (GSettings *settings);

G_END_DECLS
