package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/report"
)

// The archived board packs (candor report board and the schedule's),
// listed and served as PDFs to those who may see everything a pack shows:
// a board member or CFO had to ask whoever runs the CLI, or find the
// e-mail. A pack shows the whole organisation's metrics as of its month's
// end; a reader whose roles do not open one of them gets the list with
// that pack withheld, naming the metrics, never a pack filtered after the
// fact (its figures and pages were signed off as made).

// boardPack is one archived board pack as the API lists it.
type boardPack struct {
	ID        int64     `json:"id"`
	Month     string    `json:"month"`
	AsOf      time.Time `json:"as_of"`
	CreatedAt time.Time `json:"created_at"`
	By        string    `json:"by,omitempty"`
	Bytes     int       `json:"bytes"`
	// PDF is where the pack is fetched, when the reader may open it;
	// Withheld says why not otherwise.
	PDF      string `json:"pdf,omitempty"`
	Withheld string `json:"withheld,omitempty"`
	// Page is the PDF's address for a browser (a session, not a token);
	// Name, Maker and Size are the month, who made it and its size as the
	// page says them ("November 2026", "root (command line)", "54 KB").
	Page              string `json:"-"`
	Name, Maker, Size string `json:"-"`
}

// boardPacks lists the archived board packs, newest first, each judged
// for access.
func (s *Server) boardPacks(r *http.Request, access auth.Access) ([]boardPack, error) {
	all, err := report.Listing(r.Context(), s.Store)
	if err != nil {
		return nil, err
	}
	out := []boardPack{}
	for _, rep := range all {
		if rep.Kind != report.KindBoard {
			continue
		}
		bp := boardPack{ID: rep.ID, Month: rep.Month, AsOf: rep.AsOf, CreatedAt: rep.CreatedAt, By: rep.By, Bytes: rep.PDFBytes,
			Withheld: rep.Withheld(s.Catalog, access.CanSeeMetric), Name: rep.Month}
		if t, err := time.Parse("2006-01", rep.Month); err == nil {
			bp.Name = t.Format("January 2006")
		}
		bp.Size = strconv.Itoa((rep.PDFBytes+1023)/1024) + " KB"
		bp.Maker = strings.TrimPrefix(rep.By, "user:")
		if who, ok := strings.CutPrefix(rep.By, "cli:"); ok {
			bp.Maker = who + " (command line)"
		}
		if bp.Withheld == "" {
			id := strconv.FormatInt(rep.ID, 10)
			bp.PDF, bp.Page = "/api/v1/reports/board/"+id, "/reports/board/"+id+".pdf"
		}
		out = append(out, bp)
	}
	return out, nil
}

// listBoardPacks serves GET /api/v1/reports/board.
func (s *Server) listBoardPacks(w http.ResponseWriter, r *http.Request) {
	ps, err := s.boardPacks(r, s.access(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"board_packs": ps})
}

// boardPackPDF finds the pack the path names that access may open.
func (s *Server) boardPackPDF(r *http.Request, access auth.Access) (report.Report, error) {
	raw := strings.TrimSuffix(r.PathValue("id"), ".pdf")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return report.Report{}, badParam("id", "%q is not a report id", raw)
	}
	rep, err := report.Get(r.Context(), s.Store, id)
	if err != nil {
		return rep, err
	}
	if rep.Kind != report.KindBoard {
		return rep, domain.Errorf(domain.ENotFound, "report %d is a %s, not a board pack (GET /api/v1/reports/board lists them)", id, rep.Kind)
	}
	if why := rep.Withheld(s.Catalog, access.CanSeeMetric); why != "" {
		return rep, domain.Errorf(domain.EForbidden, "the board pack for %s is withheld: %s", rep.Month, why)
	}
	return rep, nil
}

// writeBoardPDF answers with the pack's PDF as an attachment.
func writeBoardPDF(w http.ResponseWriter, rep report.Report) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="candor-board-%s.pdf"`, rep.Month))
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.PDF)))
	w.WriteHeader(http.StatusOK)
	w.Write(rep.PDF)
}

// getBoardPack serves GET /api/v1/reports/board/{id}.
func (s *Server) getBoardPack(w http.ResponseWriter, r *http.Request) {
	rep, err := s.boardPackPDF(r, s.access(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeBoardPDF(w, rep)
}

// boardPackFile serves GET /reports/board/{id} (the page's link).
func (s *Server) boardPackFile(w http.ResponseWriter, r *http.Request) {
	rep, err := s.boardPackPDF(r, s.access(r))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	writeBoardPDF(w, rep)
}

// boardPacksPage is the Data of the board packs page.
type boardPacksPage struct {
	Packs []boardPack
}

// boardPacksList serves GET /reports: the archived board packs.
func (s *Server) boardPacksList(w http.ResponseWriter, r *http.Request) {
	ps, err := s.boardPacks(r, s.access(r))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "boardpacks", s.newPage(r, "Board packs", Query{}, boardPacksPage{Packs: ps}))
}
