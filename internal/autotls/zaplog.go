package autotls

import (
	"fmt"
	"slices"
	"strings"

	clog "github.com/coredns/coredns/plugin/pkg/log"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

var log = clog.NewWithPlugin("acmedns")

// newLogger returns the logger given to certmagic: its warnings and errors
// go to CoreDNS's log, its info lines (a dozen per order) to the debug log,
// its debug lines (which include ACME requests) nowhere. No field whose
// name suggests a key, a PEM block or a request body is written.
func newLogger() *zap.Logger {
	return zap.New(clogCore{})
}

// clogCore is a zapcore.Core that writes through clog.
type clogCore struct{ fields []zapcore.Field }

// Enabled implements zapcore.Core.
func (clogCore) Enabled(l zapcore.Level) bool { return l >= zapcore.InfoLevel }

// With implements zapcore.Core.
func (c clogCore) With(fields []zapcore.Field) zapcore.Core {
	return clogCore{fields: slices.Concat(c.fields, fields)}
}

// Check implements zapcore.Core.
func (c clogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write implements zapcore.Core.
func (c clogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	line := formatEntry(e, slices.Concat(c.fields, fields))
	switch {
	case e.Level >= zapcore.ErrorLevel:
		log.Error(line)
	case e.Level == zapcore.WarnLevel:
		log.Warning(line)
	default:
		log.Debug(line)
	}
	return nil
}

// Sync implements zapcore.Core.
func (clogCore) Sync() error { return nil }

// formatEntry renders "certificates: message (key=value, ...)", leaving out
// the fields that could carry a secret.
func formatEntry(e zapcore.Entry, fields []zapcore.Field) string {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		if !secretField(f.Key) {
			f.AddTo(enc)
		}
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("certificates: ")
	b.WriteString(e.Message)
	for i, k := range keys {
		sep := ", "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s=%v", sep, k, enc.Fields[k])
	}
	if len(keys) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

// secretField reports whether a field of that name might hold a secret.
func secretField(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"key", "pem", "csr", "jws", "payload", "body", "secret", "token"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
