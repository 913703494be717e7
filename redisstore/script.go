package redisstore

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"

	"github.com/redis/go-redis/v9"
)

// script is a Lua script run with EVALSHA, falling back to EVAL (which also
// loads it) when the server answers NOSCRIPT: after a restart, a failover to
// a replica that never saw it, SCRIPT FLUSH, or on a Cluster node that has
// not run it yet. Running through Process with a typed command keeps the
// reply decoding allocation-light, and Cluster clients route EVALSHA by its
// first key.
type script struct {
	src, hash any // strings, boxed once
}

func newScript(src string) *script {
	h := sha1.Sum([]byte(src))
	return &script{src: src, hash: hex.EncodeToString(h[:])}
}

// eval runs the script; args[0] and args[1] are overwritten with the command
// name and the hash (or source), args[2] is the key count.
func eval[C redis.Cmder](ctx context.Context, c redis.UniversalClient, s *script, newCmd func(context.Context, ...any) C, args []any) (C, error) {
	args[0], args[1] = "evalsha", s.hash
	cmd := newCmd(ctx, args...)
	err := c.Process(ctx, cmd)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		args[0], args[1] = "eval", s.src
		cmd = newCmd(ctx, args...)
		err = c.Process(ctx, cmd)
	}
	return cmd, err
}

// maxKey is the longest caller key used verbatim; longer ones are replaced
// by their SHA-256, so hostile input (a huge header used as a rate-limit
// key) cannot grow Redis memory.
const maxKey = 256

// redisKey is {prefix:key}: the braces are a Cluster hash tag, so every key
// a script touches for one caller key lives in one slot.
func redisKey(prefix, key string) string {
	if len(key) > maxKey {
		key = hashedKey(key)
	}
	return "{" + prefix + ":" + key + "}"
}

func hashedKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(h[:])
}
