package api

// app_face.go: the app's face reference (issue 17 §2): the reference
// embedding of the signed device's person, which the app caches and scores
// the check-in selfie against on the phone, with the policy's challenge and
// what the person is told about the check (§6, PIPL: the person is told
// what is checked and why).

import (
	"fmt"
	"net/http"

	"kangfu/internal/casework"
	"kangfu/internal/httpx"
)

func (a *API) appFaceRoutes() []httpx.Route {
	return []httpx.Route{
		a.appRoute("GET", "/api/v1/app/face/reference", AppDevice, a.appFaceReference,
			"app: the reference face embedding of this phone's person (null when none), the model it was made with, the policy's challenge and the notice shown to the person"),
	}
}

// faceReferenceJSON is the contract's answer (issue 17).
type faceReferenceJSON struct {
	Embedding       *string `json:"embedding"`
	Models          string  `json:"models"`
	Challenge       string  `json:"challenge"`
	RequireLiveness bool    `json:"require_liveness"`
	Threshold       float64 `json:"threshold"`
	RetentionDays   int     `json:"retention_days"`
	NoticeZH        string  `json:"notice_zh"`
	NoticeEN        string  `json:"notice_en"`
}

func (a *API) appFaceReference(w http.ResponseWriter, r *http.Request, q *appReq) error {
	emb, models, err := a.DB.AppFaceReference(r.Context(), q.Device)
	if err != nil {
		return err
	}
	pol, err := a.DB.AppPolicyToday(r.Context(), q.Device.PersonID)
	if err != nil {
		return err
	}
	out := faceReferenceJSON{Models: models, RequireLiveness: pol.Value("identity.require_liveness").Bool(),
		Threshold: pol.Value("identity.match_threshold").Decimal(), RetentionDays: pol.Value("identity.retention_days").Int()}
	if emb != "" {
		out.Embedding = &emb
	}
	if c := pol.Value("identity.challenge").Enum(); c != casework.ChallengeNone {
		out.Challenge = c
	}
	out.NoticeZH = fmt.Sprintf("签到时，手机在本机把您的自拍与激活时拍的参考照片比对（相似度不低于%.2f为通过），并检查是真人在镜头前。人脸数据加密保存，每次查看都有记录，签到的人脸特征保存%d天后删除。比对没有通过不会自动处罚，由工作人员复核。",
		out.Threshold, out.RetentionDays)
	out.NoticeEN = fmt.Sprintf("When you check in, the phone compares your selfie with the reference photo taken at activation (a similarity of at least %.2f passes) and checks that a live person is in front of the camera. Face data is stored encrypted, every view is recorded, and a check-in's face data is deleted after %d days. A failed match is never punished automatically: a staff member reviews it.",
		out.Threshold, out.RetentionDays)
	writeJSON(w, http.StatusOK, out)
	return nil
}
