/* casement-preferences.h
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

G_BEGIN_DECLS

#define CASEMENT_TYPE_PREFERENCES (casement_preferences_get_type ())

G_DECLARE_FINAL_TYPE (CasementPreferences, casement_preferences, CASEMENT, PREFERENCES, AdwPreferencesWindow)

/* The application's preferences, changed in place in @settings. @settings
 * is NULL when the settings schema is not installed (an uninstalled build):
 * the window then shows the defaults and says that nothing can be saved. */
CasementPreferences *casement_preferences_new (GtkWindow *parent,
                                               GSettings *settings);

G_END_DECLS
