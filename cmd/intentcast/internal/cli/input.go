package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

// Bad input, whether this process or the daemon found it, is a usage
// error (exit 2) that names the flag: the input rules (intent's, through
// client.PublishRequest.Draft and the daemon's answers) tag each problem
// with its field, and fieldFlag names the flag that sets the field.

// fieldFlags are the fields whose flag is not their name with '-' for '_'.
var fieldFlags = map[intent.Field]string{
	intent.FieldCustomTerms: "custom",
}

// fieldFlag is the flag of cmd that sets field f, or "" if it has none.
func fieldFlag(cmd *ucli.Command, f intent.Field) string {
	name, ok := fieldFlags[f]
	if !ok {
		name = strings.ReplaceAll(string(f), "_", "-")
	}
	for _, fl := range cmd.Flags {
		if slices.Contains(fl.Names(), name) {
			return name
		}
	}
	return ""
}

// apiField is the field an API error names, or "".
func apiField(err error) string {
	var e *client.Error
	if errors.As(err, &e) && e.Status == 400 {
		return e.Field
	}
	return ""
}

// inputError turns an input rule's error (an *intent.FieldError, or an
// API answer naming a field) into a usage error naming cmd's flag. Other
// errors pass through.
func inputError(cmd *ucli.Command, err error) error {
	var (
		fe    *intent.FieldError
		field intent.Field
		msg   string
	)
	switch {
	case errors.As(err, &fe):
		field, msg = fe.Field, fe.Msg
	case apiField(err) != "":
		var e *client.Error
		errors.As(err, &e)
		field, msg = intent.Field(e.Field), e.Message
	default:
		return err
	}
	if flag := fieldFlag(cmd, field); flag != "" {
		return flagError(cmd, flag, flagText(cmd, flag), msg)
	}
	return usagef(cmd, "%s", msg)
}

// flagText is a flag's value as the user typed it, near enough.
func flagText(cmd *ucli.Command, flag string) string {
	switch v := cmd.Value(flag).(type) {
	case []string:
		return strings.Join(v, ",")
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// maxTextRead bounds what a text flag reads from a file or stdin: far over
// the protocol's 1024 bytes, so that the input rules can say by how much a
// text is too long, and far under what would hurt.
const maxTextRead = 1 << 20

// textFlag reads a free-text flag: its value, or with "@FILE" the file's
// content, or with "-" stdin's; surrounding white space (the newline an
// editor or echo adds) is dropped.
func (a *app) textFlag(cmd *ucli.Command, flag string) (string, error) {
	v := cmd.String(flag)
	var (
		r    io.Reader
		from string
	)
	switch {
	case v == "-":
		r, from = a.stdin, "stdin"
	case strings.HasPrefix(v, "@"):
		f, err := os.Open(v[1:])
		if err != nil {
			return "", flagError(cmd, flag, v, fmt.Sprintf("cannot read the file: %v", errors.Unwrap(err)))
		}
		defer f.Close()
		r, from = f, v[1:]
	default:
		return v, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, maxTextRead))
	if err != nil {
		return "", flagError(cmd, flag, v, fmt.Sprintf("cannot read %s: %v", from, err))
	}
	return strings.TrimSpace(string(b)), nil
}
