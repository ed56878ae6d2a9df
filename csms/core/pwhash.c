/* SPDX-License-Identifier: MIT */
/* PBKDF2-HMAC-SHA256 and scrypt password hashes through OpenSSL. */
#include "pwhash.h"

#include <errno.h>
#include <stdint.h>
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

static bool scrypt_verify(const char *password, const char *encoded);

bool pwhash_verify(const char *password, const char *encoded)
{
	unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
	const char *p = encoded, *salt_hex, *key_hex;
	char *end;
	unsigned long iter;

	if (encoded && strncmp(encoded, "scrypt$", 7) == 0)
		return scrypt_verify(password, encoded);
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

/* scrypt needs 128 * r * N bytes (plus a little): allow that much and no more. */
static uint64_t scrypt_maxmem(unsigned log2n, unsigned r)
{
	return 128ull * r * (1ull << log2n) + (1u << 20);
}

static bool scrypt_params_ok(unsigned long log2n, unsigned long r, unsigned long p)
{
	return log2n >= 10 && log2n <= 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16;
}

int pwhash_scrypt_create(const char *password, unsigned log2n, unsigned r, unsigned p, char *out,
			 size_t out_len)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char salt_hex[2 * SALT_LEN + 1], key_hex[2 * KEY_LEN + 1];
	int n;

	if (!scrypt_params_ok(log2n, r, p))
		return -EINVAL;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -EIO;
	if (EVP_PBE_scrypt(password, strlen(password), salt, sizeof(salt), 1ull << log2n, r, p,
			   scrypt_maxmem(log2n, r), key, sizeof(key)) != 1)
		return -EIO;
	to_hex(salt, sizeof(salt), salt_hex);
	to_hex(key, sizeof(key), key_hex);
	OPENSSL_cleanse(key, sizeof(key));
	n = snprintf(out, out_len, "scrypt$%u$%u$%u$%s$%s", log2n, r, p, salt_hex, key_hex);
	return n > 0 && (size_t)n < out_len ? 0 : -EINVAL;
}

static bool scrypt_verify(const char *password, const char *encoded)
{
	unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
	unsigned long v[3];
	const char *p = encoded + 7, *salt_hex, *key_hex;
	char *end;
	bool ok;

	for (int i = 0; i < 3; i++) {
		v[i] = strtoul(p, &end, 10);
		if (end == p || *end != '$')
			return false;
		p = end + 1;
	}
	if (!scrypt_params_ok(v[0], v[1], v[2]))
		return false;
	salt_hex = p;
	if (strlen(salt_hex) != 2 * SALT_LEN + 1 + 2 * KEY_LEN || salt_hex[2 * SALT_LEN] != '$')
		return false;
	key_hex = salt_hex + 2 * SALT_LEN + 1;
	if (from_hex(salt_hex, SALT_LEN, salt) < 0 || from_hex(key_hex, KEY_LEN, want) < 0)
		return false;
	if (EVP_PBE_scrypt(password, strlen(password), salt, sizeof(salt), 1ull << v[0],
			   (uint64_t)v[1], (uint64_t)v[2],
			   scrypt_maxmem((unsigned)v[0], (unsigned)v[1]), got, sizeof(got)) != 1)
		return false;
	ok = CRYPTO_memcmp(want, got, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

int pwhash_random_hex(size_t n, char *out)
{
	unsigned char b[64];

	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1)
		return -EIO;
	to_hex(b, n, out);
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

void pwhash_sha256_hex(const char *secret, char out[PWHASH_SHA256_HEX])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_Digest(secret, strlen(secret), md, &len, EVP_sha256(), NULL);
	to_hex(md, sizeof(md), out);
}

bool pwhash_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}
