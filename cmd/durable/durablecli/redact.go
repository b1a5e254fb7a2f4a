package durablecli

import (
	"net/url"
	"strings"
)

// Redact removes the credentials of dsn from msg: the DSN itself is
// replaced by its redacted form (user and host kept, password dropped), and
// any other copy of the password by "…". Every message the CLI and the web
// UI print or log goes through it, so a PostgreSQL password never shows.
func Redact(msg, dsn string) string {
	if dsn == "" {
		return msg
	}
	safe := RedactDSN(dsn)
	msg = strings.ReplaceAll(msg, dsn, safe)
	for _, secret := range secrets(dsn) {
		if len(secret) >= 3 {
			msg = strings.ReplaceAll(msg, secret, "…")
		}
	}
	return msg
}

// RedactDSN returns dsn without its password: postgres://user:…@host/db.
// SQLite DSNs carry no credentials and are returned as they are.
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "…")
	}
	q := u.Query()
	for k := range q {
		if isSecretParam(k) {
			q.Set(k, "…")
		}
	}
	u.RawQuery = q.Encode()
	s := u.String()
	s = strings.ReplaceAll(s, "%E2%80%A6", "…")
	return s
}

// secrets are the credential values in dsn.
func secrets(dsn string) []string {
	u, err := url.Parse(dsn)
	if err != nil || u.Opaque != "" {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok {
		out = append(out, p, url.QueryEscape(p), url.PathEscape(p))
	}
	for k, vs := range u.Query() {
		if isSecretParam(k) {
			out = append(out, vs...)
		}
	}
	return out
}

func isSecretParam(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "sslpassword" || strings.Contains(k, "secret") || strings.Contains(k, "token")
}
