/* casement-application.h
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

#define CASEMENT_TYPE_APPLICATION (casement_application_get_type ())

G_DECLARE_FINAL_TYPE (CasementApplication, casement_application, CASEMENT, APPLICATION, AdwApplication)

CasementApplication *casement_application_new                  (void);
/* The running CasementApplication's preferences; NULL without its
 * settings schema, or when another application runs (tests). */
GSettings           *casement_application_get_default_settings (void);
/* The "shutdown-timeout" preference in seconds; 0 (the core's default)
 * without preferences. */
guint                casement_application_get_shutdown_timeout (void);

G_END_DECLS
