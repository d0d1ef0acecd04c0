package ui

import (
	"net/http"

	"focal/internal/focal"
)

// userListPage is the data of the user list.
type userListPage struct {
	base
	Users     []*focal.User
	MayCreate bool
}

// userList serves GET /users: every account.
func (h *handlers) userList(w http.ResponseWriter, r *http.Request) {
	users, err := h.store.Users(r.Context())
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "user_list", userListPage{
		base:      h.base(r, "Users"),
		Users:     users,
		MayCreate: may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindUser}),
	})
}
