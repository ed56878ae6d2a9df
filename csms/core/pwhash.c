/* SPDX-License-Identifier: MIT */
/* PBKDF2-HMAC-SHA256 password hashes through OpenSSL. */
#include "pwhash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SALT_LEN 16
#define KEY_LEN	 32

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -EINVAL;
}

static int from_hex(const char *in, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(in[2 * i]), lo = nibble(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int pwhash_create(const char *password, unsigned iterations, char *out, size_t out_len)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char salt_hex[2 * SALT_LEN + 1], key_hex[2 * KEY_LEN + 1];
	int n;

	if (iterations < 1 || iterations > 10000000)
		return -EINVAL;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -EIO;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), (int)iterations,
			      EVP_sha256(), sizeof(key), key) != 1)
		return -EIO;
	to_hex(salt, sizeof(salt), salt_hex);
	to_hex(key, sizeof(key), key_hex);
	n = snprintf(out, out_len, "pbkdf2-sha256$%u$%s$%s", iterations, salt_hex, key_hex);
	return n > 0 && (size_t)n < out_len ? 0 : -EINVAL;
}

bool pwhash_verify(const char *password, const char *encoded)
{
	unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
	const char *p = encoded, *salt_hex, *key_hex;
	char *end;
	unsigned long iter;

	if (!encoded || strncmp(p, "pbkdf2-sha256$", 14) != 0)
		return false;
	p += 14;
	iter = strtoul(p, &end, 10);
	if (end == p || *end != '$' || iter < 1 || iter > 10000000)
		return false;
	salt_hex = end + 1;
	if (strlen(salt_hex) != 2 * SALT_LEN + 1 + 2 * KEY_LEN || salt_hex[2 * SALT_LEN] != '$')
		return false;
	key_hex = salt_hex + 2 * SALT_LEN + 1;
	if (from_hex(salt_hex, SALT_LEN, salt) < 0 || from_hex(key_hex, KEY_LEN, want) < 0)
		return false;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), (int)iter,
			      EVP_sha256(), sizeof(got), got) != 1)
		return false;
	return CRYPTO_memcmp(want, got, sizeof(got)) == 0;
}
