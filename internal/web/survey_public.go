package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
	"kangfu/internal/store"
)

// The residents' survey page (issue 12 §4): no account, a phone's width,
// Chinese first with English, served from the embedded templates and
// stylesheet like every console page. What it resists, in order:
//   - too many answers from one address: a token bucket per client address
//     (httpx.ClientIP, which honours X-Forwarded-For only when the server
//     is told it sits behind a trusted proxy), SurveyLimits below;
//   - the rest in the store (SubmitSurveyResponse): open and close dates,
//     the survey's cap, a second answer from the same browser (a random
//     cookie set when the page is first opened), and the same answers from
//     the same address within a day.
//
// Nothing else is asked or kept about a respondent: no name, phone, or
// address; the cookie and the address go into the store only as keyed
// hashes.

// SurveyCookie holds a browser's random survey token.
const SurveyCookie = "kangfu_survey"

// SurveyLimits are the per-address rate limit of answers: Burst answers at
// once, then one every Every. The defaults allow a street intercept where
// many phones share one carrier address.
type SurveyLimits struct {
	Burst int
	Every time.Duration
}

// DefaultSurveyLimits: 30 answers at once, then one every 2 minutes.
var DefaultSurveyLimits = SurveyLimits{Burst: 30, Every: 2 * time.Minute}

// surveyAllow takes one answer from the address's bucket, kept in the
// database so every server draws on the same one (issue 16 §2).
func (c *Console) surveyAllow(ctx context.Context, addr string) (bool, error) {
	lim := c.SurveyLimits
	if lim.Burst == 0 {
		lim = DefaultSurveyLimits
	}
	return c.DB.AllowRate(ctx, "survey:"+addr, lim.Burst, lim.Every)
}

func (c *Console) publicSurveyRoutes(rt route) []httpx.Route {
	public := httpx.Access{Public: true}
	return []httpx.Route{
		rt("GET", "/s/{token}", public, c.publicSurvey, "a resident survey (no account)"),
		rt("POST", "/s/{token}", public, c.publicSurveyAnswer, "answer a resident survey (no account)"),
	}
}

type publicSurveyData struct {
	Token     string
	S         *store.PublicSurvey
	Refusal   string // why the answer was not taken, in the language
	Err       *formError
	Done      bool
	Sat       []choiceGroup
	Knowledge []choiceGroup
	AgeBands  []choice
	Roles     []choice
	Channels  []choice
	Form      map[string]string
}

type choiceGroup struct {
	Name    string
	Text    string
	Options []choice
}

func (c *Console) publicSurveyPage(w http.ResponseWriter, r *http.Request, q *req, d publicSurveyData, status int) error {
	token := r.PathValue("token")
	s, err := c.DB.SurveyByToken(r.Context(), token)
	if err != nil {
		return err
	}
	d.Token, d.S = token, s
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	sel := func(name, v string) bool { return d.Form[name] == v }
	for _, b := range casework.AgeBands {
		d.AgeBands = append(d.AgeBands, choice{Value: b, Label: casework.AgeBandLabel(b, q.Lang), Selected: sel("age_band", b)})
	}
	for _, ro := range casework.RespondentRoles {
		d.Roles = append(d.Roles, choice{Value: ro, Label: casework.RespondentRoleLabel(ro, q.Lang), Selected: sel("role", ro)})
	}
	for _, ch := range casework.Channels {
		d.Channels = append(d.Channels, choice{Value: ch, Label: casework.ChannelLabel(ch, q.Lang), Selected: sel("channel", ch)})
	}
	for _, it := range casework.SatItems {
		g := choiceGroup{Name: "sat_" + it.Code, Text: it.Text(q.Lang)}
		for _, a := range casework.SatAnswers {
			g.Options = append(g.Options, choice{Value: string(a), Label: a.Label(q.Lang), Selected: sel(g.Name, string(a))})
		}
		d.Sat = append(d.Sat, g)
	}
	for _, it := range casework.KnowledgeItems {
		g := choiceGroup{Name: "k_" + it.Code, Text: it.Text(q.Lang)}
		for i, o := range it.Options {
			l := o[0]
			if q.Lang == "en" {
				l = o[1]
			}
			g.Options = append(g.Options, choice{Value: strconv.Itoa(i), Label: l, Selected: sel(g.Name, strconv.Itoa(i))})
		}
		d.Knowledge = append(d.Knowledge, g)
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	c.render(w, r, q, status, "survey_public", d)
	return nil
}

// publicSurvey shows the form and gives the browser its survey token.
func (c *Console) publicSurvey(w http.ResponseWriter, r *http.Request, q *req) error {
	if _, err := r.Cookie(SurveyCookie); err != nil {
		b := make([]byte, 16)
		rand.Read(b)
		http.SetCookie(w, &http.Cookie{Name: SurveyCookie, Value: hex.EncodeToString(b), Path: "/s/", MaxAge: 400 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	}
	return c.publicSurveyPage(w, r, q, publicSurveyData{}, http.StatusOK)
}

func (c *Console) publicSurveyAnswer(w http.ResponseWriter, r *http.Request, q *req) error {
	refuse := func(d publicSurveyData, err error, status int) error {
		d.Refusal = casework.ErrorMessage(err, q.Lang)
		return c.publicSurveyPage(w, r, q, d, status)
	}
	addr := httpx.ClientIP(r, c.TrustProxy)
	if ok, err := c.surveyAllow(r.Context(), addr); err != nil {
		return err
	} else if !ok {
		return refuse(publicSurveyData{}, casework.Errorf(casework.ERATELIMIT, "您所在的网络提交过于频繁，请稍后再试",
			"too many answers from your network; please try again later"), http.StatusTooManyRequests)
	}
	names := []string{"age_band", "role", "heard", "channel"}
	for _, it := range casework.SatItems {
		names = append(names, "sat_"+it.Code)
	}
	for _, it := range casework.KnowledgeItems {
		names = append(names, "k_"+it.Code)
	}
	f, err := formValues(r, names...)
	if err != nil {
		return err
	}
	d := publicSurveyData{Form: f}
	ck, cerr := r.Cookie(SurveyCookie)
	if cerr != nil || ck.Value == "" {
		return refuse(d, casework.Errorf(casework.ECONFLICT, "请重新打开调查链接后再提交（需允许Cookie）",
			"please open the survey link again before answering (cookies must be allowed)"), http.StatusConflict)
	}
	a := casework.SurveyAnswers{AgeBand: f["age_band"], Role: f["role"], Heard: f["heard"] == "yes", Channel: f["channel"]}
	for _, it := range casework.SatItems {
		a.Sat = append(a.Sat, casework.SatAnswer(f["sat_"+it.Code]))
	}
	for _, it := range casework.KnowledgeItems {
		n, err := strconv.Atoi(f["k_"+it.Code])
		if err != nil {
			n = -1
		}
		a.Knowledge = append(a.Knowledge, n)
	}
	err = c.DB.SubmitSurveyResponse(r.Context(), r.PathValue("token"), a, store.SurveyClient{BrowserToken: ck.Value, Address: addr})
	switch {
	case err == nil:
		return c.publicSurveyPage(w, r, q, publicSurveyData{Done: true}, http.StatusOK)
	case store.SurveyRefusal(err) != "":
		return refuse(d, err, http.StatusConflict)
	}
	if fe, ok := toFormError(err, q.Lang); ok {
		d.Err = fe
		return c.publicSurveyPage(w, r, q, d, http.StatusBadRequest)
	}
	return err
}
