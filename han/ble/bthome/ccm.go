package bthome

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
)

// AES-CCM (RFC 3610) as BTHome uses it: 13-byte nonce (so L = 2), 4-byte
// MIC, no associated data. The standard library has no CCM; this is the
// few lines it takes over crypto/aes.

const micLen = 4

func ccmBlock(key []byte) (cipher.Block, error) {
	if len(key) != 16 {
		return nil, fmt.Errorf("bthome: key of %d bytes, want 16", len(key))
	}
	return aes.NewCipher(key)
}

// ccmMAC computes the CBC-MAC tag of msg.
func ccmMAC(b cipher.Block, nonce, msg []byte) [16]byte {
	var x [16]byte
	x[0] = 8*((micLen-2)/2) + (2 - 1) // no Adata, M, L
	copy(x[1:14], nonce)
	x[14], x[15] = byte(len(msg)>>8), byte(len(msg))
	b.Encrypt(x[:], x[:])
	for len(msg) > 0 {
		n := min(16, len(msg))
		subtle.XORBytes(x[:n], x[:n], msg[:n])
		b.Encrypt(x[:], x[:])
		msg = msg[n:]
	}
	return x
}

// ccmCTR xors src with the key stream from counter 1 into dst and
// returns S0 (the block that masks the tag).
func ccmCTR(b cipher.Block, nonce, dst, src []byte) [16]byte {
	var a, s, s0 [16]byte
	a[0] = 2 - 1
	copy(a[1:14], nonce)
	b.Encrypt(s0[:], a[:])
	for i := 1; len(src) > 0; i++ {
		a[14], a[15] = byte(i>>8), byte(i)
		b.Encrypt(s[:], a[:])
		n := min(16, len(src))
		subtle.XORBytes(dst[:n], src[:n], s[:n])
		dst, src = dst[n:], src[n:]
	}
	return s0
}

func ccmSeal(key, nonce, plain []byte) (ct, mic []byte, err error) {
	b, err := ccmBlock(key)
	if err != nil {
		return nil, nil, err
	}
	t := ccmMAC(b, nonce, plain)
	ct = make([]byte, len(plain))
	s0 := ccmCTR(b, nonce, ct, plain)
	mic = make([]byte, micLen)
	subtle.XORBytes(mic, t[:micLen], s0[:micLen])
	return ct, mic, nil
}

func ccmOpen(key, nonce, ct, mic []byte) ([]byte, error) {
	b, err := ccmBlock(key)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(ct))
	s0 := ccmCTR(b, nonce, plain, ct)
	t := ccmMAC(b, nonce, plain)
	var want [micLen]byte
	subtle.XORBytes(want[:], t[:micLen], s0[:micLen])
	if subtle.ConstantTimeCompare(want[:], mic) != 1 {
		return nil, ErrMIC
	}
	return plain, nil
}
