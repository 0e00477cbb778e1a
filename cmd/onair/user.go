package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onairfm/onair"
	"github.com/onairfm/onair/auth"
	"github.com/onairfm/onair/configs"
	"github.com/onairfm/onair/store"
)

// userCmd is "onair user add NAME --role ROLE", with the password read from
// the first line of stdin so it never shows in the process list.
func userCmd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, environ []string) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: onair user add NAME --role owner|admin|listener (password on stdin)")
	}
	fs := pflag.NewFlagSet("user add", pflag.ContinueOnError)
	configs.RegisterFlags(fs)
	role := fs.String("role", "listener", "the user's role: owner, admin or listener")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: onair user add NAME --role owner|admin|listener (password on stdin)")
	}
	name := fs.Arg(0)
	if !onair.Role(*role).Valid() {
		return fmt.Errorf("role %q: must be owner, admin or listener", *role)
	}
	cfg, err := configs.Load(fs, environ, "")
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return errors.New("no password on stdin")
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // nothing is written after CreateUser returns
	u, err := (&auth.Service{Store: db}).CreateUser(ctx, name, password, onair.Role(*role))
	if err != nil {
		return fmt.Errorf("add user %s: %s", name, onair.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "added %s user %q (id %d)\n", u.Role, u.Username, u.ID)
	return nil
}

func openStore(ctx context.Context, cfg *configs.Config) (*store.DB, error) {
	if err := ensureDirs(cfg); err != nil {
		return nil, err
	}
	return store.Open(ctx, filepath.Join(cfg.DataDir, "onair.db"))
}
