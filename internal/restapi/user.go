package restapi

import (
	"net/http"
	"strconv"
	"time"

	"focal/internal/auth"
	"focal/internal/focal"
)

// userBody is an account as the API shows it; never with a password.
type userBody struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	Role        focal.Role `json:"role"`
	OrgID       int64      `json:"org_id,omitempty"`
	OrgName     string     `json:"org_name,omitempty"`
	Disabled    bool       `json:"disabled"`
	Restricted  bool       `json:"restricted_access"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

func userToBody(u *focal.User) userBody {
	b := userBody{ID: u.ID, Name: u.Name, Role: u.Role, OrgID: u.OrgID, OrgName: u.OrgName, Disabled: u.Disabled, Restricted: u.RestrictedAccess, CreatedAt: u.CreatedAt}
	if !u.LastLoginAt.IsZero() {
		b.LastLoginAt = &u.LastLoginAt
	}
	return b
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	p := focal.PrincipalFromContext(r.Context())
	u, err := a.Store.User(r.Context(), p.UserID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, userToBody(u))
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := a.Store.Users(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := list[userBody]{Items: []userBody{}, Total: len(us), Limit: len(us)}
	for _, u := range us {
		out.Items = append(out.Items, userToBody(u))
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	u, err := a.Store.User(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, userToBody(u))
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		OrgID    int64  `json:"org_id"`
		Password string `json:"password"`
	}
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	role, err := focal.ParseRole(b.Role)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	hash := ""
	if b.Password != "" || role != focal.RolePeer {
		if err := auth.CheckPasswordPolicy(b.Password); err != nil {
			reason := err.Error()
			if pe, ok := err.(*auth.PolicyError); ok {
				reason = pe.Reason
			}
			a.Error(w, r, focal.FieldErrorf("password", "%s", reason))
			return
		}
		if hash, err = auth.HashPassword(b.Password, auth.DefaultParams); err != nil {
			a.Error(w, r, err)
			return
		}
	}
	u := &focal.User{Name: b.Name, Role: role, OrgID: b.OrgID}
	if err := a.Store.CreateUser(r.Context(), u, hash); err != nil {
		a.Error(w, r, err)
		return
	}
	created, err := a.Store.User(r.Context(), u.ID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/users/"+strconv.FormatInt(u.ID, 10))
	a.writeJSON(w, http.StatusCreated, userToBody(created))
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var b struct {
		Role       *string `json:"role"`
		OrgID      *int64  `json:"org_id"`
		Disabled   *bool   `json:"disabled"`
		Restricted *bool   `json:"restricted_access"`
	}
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	u, err := a.Store.User(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if b.Role != nil {
		if u.Role, err = focal.ParseRole(*b.Role); err != nil {
			a.Error(w, r, err)
			return
		}
	}
	if b.OrgID != nil {
		u.OrgID = *b.OrgID
	}
	if b.Disabled != nil {
		u.Disabled = *b.Disabled
	}
	if b.Restricted != nil {
		u.RestrictedAccess = *b.Restricted
	}
	if err := a.Store.UpdateUser(r.Context(), u); err != nil {
		a.Error(w, r, err)
		return
	}
	updated, err := a.Store.User(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, userToBody(updated))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = a.Store.DeleteUser(r.Context(), id)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
