/* SPDX-License-Identifier: MIT */
/* Charger passwords: PBKDF2-HMAC-SHA256 with a random salt, encoded with its parameters. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PWHASH_MAX 128

/* Hash password into out ("pbkdf2-sha256$ITER$SALT_HEX$HASH_HEX"). 0, -EINVAL or -EIO. */
int pwhash_create(const char *password, unsigned iterations, char *out, size_t out_len);
/* True if password matches the encoded hash (constant-time compare). */
bool pwhash_verify(const char *password, const char *encoded);
