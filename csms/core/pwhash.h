/* SPDX-License-Identifier: MIT */
/* Password hashes with a random salt, encoded with their parameters: PBKDF2-HMAC-SHA256 for
 * charger passwords, scrypt for operator accounts; SHA-256 of high-entropy API secrets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PWHASH_MAX 128

/* Hash password into out ("pbkdf2-sha256$ITER$SALT_HEX$HASH_HEX"). 0, -EINVAL or -EIO. */
int pwhash_create(const char *password, unsigned iterations, char *out, size_t out_len);
/* True if password matches the encoded hash, PBKDF2 or scrypt (constant-time compare). */
bool pwhash_verify(const char *password, const char *encoded);

/* Operator accounts: scrypt N = 2^15, r = 8, p = 3 (OWASP's 32 MiB setting; about 350 ms on
 * one core here). Memory-hard, so a GPU farm gains far less than against PBKDF2, and the
 * memory per verification is bounded (32 MiB, times the libuv threadpool's 4 threads). */
#define PWHASH_SCRYPT_LOG2N 15
#define PWHASH_SCRYPT_R	    8
#define PWHASH_SCRYPT_P	    3

/* Hash password with scrypt into out ("scrypt$LOG2N$R$P$SALT_HEX$HASH_HEX"). log2n 10..20,
 * r 1..32, p 1..16. 0, -EINVAL (bad parameters or out too small) or -EIO. Slow: never on the
 * event loop. */
int pwhash_scrypt_create(const char *password, unsigned log2n, unsigned r, unsigned p, char *out,
			 size_t out_len);
/* Random bytes as lower-case hex: n bytes need 2n+1 bytes of out. 0 or -EIO. */
int pwhash_random_hex(size_t n, char *out);
/* SHA-256 of a high-entropy secret (session cookie, API token) as 64 hex digits + NUL; a
 * KDF adds nothing when the secret is 32 random bytes. */
#define PWHASH_SHA256_HEX (64 + 1)
void pwhash_sha256_hex(const char *secret, char out[PWHASH_SHA256_HEX]);
/* Constant-time equality of two NUL-terminated strings (the length may leak). */
bool pwhash_equal(const char *a, const char *b);
