/* casement-keymap.h
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

#include <glib.h>

G_BEGIN_DECLS

/* Bit spice-client-glib uses for scancodes that have an 0xE0 prefix. */
#define CASEMENT_KEYMAP_E0 0x100

/* The PC XT (set 1) scancode for a GDK hardware keycode, i.e. the evdev
 * code + 8 that GDK reports on both X11 and Wayland, in the form
 * spice_inputs_channel_key_press() takes: E0-prefixed keys as
 * CASEMENT_KEYMAP_E0 | code. Returns 0 for keys a PC keyboard has not. */
guint casement_keymap_keycode_to_xt (guint hardware_keycode);

/* The same from a Linux evdev code (KEY_*). */
guint casement_keymap_evdev_to_xt   (guint evdev_code);

G_END_DECLS
