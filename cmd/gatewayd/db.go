package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gatewayd-project/gatewayd/config"
	"github.com/gatewayd-project/gatewayd/energy"
	"github.com/gatewayd-project/gatewayd/storage"
	"github.com/gatewayd-project/gatewayd/web"
)

// adminSocket is the daemon's local admin endpoint (online backup); file
// permissions (0600 in a 0700 state dir) are its authentication.
func adminSocket(stateDir string) string { return filepath.Join(stateDir, "admin.sock") }

// serveAdmin serves the admin socket until ctx is done.
func serveAdmin(ctx context.Context, path string, store *storage.Store) error {
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		// The write-ahead log is not part of the bbolt file: move it in.
		if err := store.Flush(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		store.Backup(w)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	err = srv.Serve(ln)
	os.Remove(path)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// stateAndDB resolves --state and --config into the state dir and DB path.
func stateAndDB(name string, args []string, extra func(fs flagSet)) (state, db string, err error) {
	f := newFlags(name)
	st := f.String("state", "", "state directory (required)")
	cfgPath := f.String("config", "", "config file (for storage.path)")
	if extra != nil {
		extra(f)
	}
	if err := parseFlags(f, args); err != nil {
		return "", "", err
	}
	if *st == "" {
		return "", "", usageErr("%s: --state is required", name)
	}
	cfg := config.Default()
	if *cfgPath != "" {
		if cfg, err = loadConfig(*cfgPath); err != nil {
			return "", "", err
		}
	}
	abs, err := filepath.Abs(*st)
	if err != nil {
		return "", "", usageErr("%s: --state: %v", name, err)
	}
	return abs, cfg.Storage.DBPath(abs), nil
}

func cmdDB(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr("db: want check, compact or backup\n%s", usage)
	}
	switch args[0] {
	case "check":
		_, db, err := stateAndDB("db check", args[1:], nil)
		if err != nil {
			return err
		}
		s, err := storage.Open(storage.Options{Path: db, ReadOnly: true})
		if err != nil {
			return err
		}
		defer s.Close()
		problems, err := s.Check()
		if err != nil {
			return err
		}
		for _, p := range problems {
			fmt.Fprintln(stdout, p)
		}
		if len(problems) > 0 {
			return fmt.Errorf("db check: %d problems in %s", len(problems), db)
		}
		fmt.Fprintf(stdout, "%s: ok\n", db)
		return nil
	case "compact":
		_, db, err := stateAndDB("db compact", args[1:], nil)
		if err != nil {
			return err
		}
		tmp := db + ".compact"
		os.Remove(tmp)
		before, after, err := storage.Compact(db, tmp)
		if err != nil {
			return err
		}
		if err := os.Rename(tmp, db); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d -> %d bytes\n", db, before, after)
		return nil
	case "backup":
		rest := args[1:]
		if len(rest) == 0 || rest[0] == "" || rest[0][0] == '-' {
			return usageErr("db backup: want FILE then --state DIR")
		}
		file := rest[0]
		state, db, err := stateAndDB("db backup", rest[1:], nil)
		if err != nil {
			return err
		}
		if err := backupViaDaemon(state, file); err == nil {
			fmt.Fprintf(stdout, "backup of the running daemon's database written to %s\n", file)
			return nil
		} else if !errors.Is(err, errNoDaemon) {
			return err
		}
		// Opened read-write (the daemon is not running): the log left by
		// a crash moves into the file before it is copied.
		s, err := storage.Open(storage.Options{Path: db})
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.Flush(); err != nil {
			return err
		}
		if err := s.BackupFile(file); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup of %s written to %s\n", db, file)
		return nil
	}
	return usageErr("db: unknown %q\n%s", args[0], usage)
}

var errNoDaemon = errors.New("no daemon")

// backupViaDaemon streams a consistent backup from the running daemon.
func backupViaDaemon(state, file string) error {
	sock := adminSocket(state)
	if _, err := os.Stat(sock); err != nil {
		return errNoDaemon
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := client.Get("http://gatewayd/backup")
	if err != nil {
		return errNoDaemon
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("db backup: daemon answered %s", resp.Status)
	}
	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, ".gatewayd-backup-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		tmp.Close()
		return fmt.Errorf("db backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A backup that does not open is no backup.
	s, err := storage.Open(storage.Options{Path: tmp.Name(), ReadOnly: true})
	if err != nil {
		return fmt.Errorf("db backup: received file does not open: %w", err)
	}
	s.Close()
	return os.Rename(tmp.Name(), file)
}

func cmdExport(args []string, stdout io.Writer) error {
	var format, device, quantity, tier, fromS, toS *string
	_, db, err := stateAndDB("export", args, func(f flagSet) {
		format = f.String("format", "csv", "csv or json")
		device = f.String("device", "", "device (default all)")
		quantity = f.String("quantity", "", "quantity (default all)")
		tier = f.String("tier", "raw", "raw, minute, quarter or day")
		fromS = f.String("from", "", "RFC 3339 start (default 24 h before to)")
		toS = f.String("to", "", "RFC 3339 end (default now)")
	})
	if err != nil {
		return err
	}
	if *format != "csv" && *format != "json" {
		return usageErr("export: --format must be csv or json")
	}
	to := time.Now()
	if *toS != "" {
		if to, err = time.Parse(time.RFC3339Nano, *toS); err != nil {
			return usageErr("export: --to: %v", err)
		}
	}
	from := to.Add(-24 * time.Hour)
	if *fromS != "" {
		if from, err = time.Parse(time.RFC3339Nano, *fromS); err != nil {
			return usageErr("export: --from: %v", err)
		}
	}
	s, err := storage.Open(storage.Options{Path: db, ReadOnly: true})
	if err != nil {
		return err
	}
	defer s.Close()
	bw := bufio.NewWriter(stdout)
	err = web.WriteExport(bw, *format, func(fn func(storage.ExportRow) error) error {
		return s.Export(energy.DeviceID(*device), energy.Quantity(*quantity), *tier, from, to, fn)
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if errors.Is(err, storage.ErrUnknownSeries) || errors.Is(err, storage.ErrTier) || errors.Is(err, storage.ErrRange) {
		return usageErr("export: %v", err)
	}
	return err
}
