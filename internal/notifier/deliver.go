package notifier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"focal/internal/focal"
	"focal/internal/notify"
	"focal/internal/store"
)

// dueBatch bounds the messages one tick tries to deliver.
const dueBatch = 200

// deliver tries the messages due at now once each.
func (n *Notifier) deliver(ctx context.Context, now time.Time) error {
	due, err := n.Store.DueNotifications(ctx, now, dueBatch)
	if err != nil {
		return err
	}
	for _, m := range due {
		// A slow relay can outlast the lease: renew it before each
		// message, so that no other process sends the same one.
		if ok, err := n.Store.TryLease(ctx, leaseName, n.holder(), n.now(), 3*n.interval()); err != nil || !ok {
			return err
		}
		var derr error
		switch m.Channel {
		case notify.ChannelWebhook:
			if n.Webhook == nil {
				continue
			}
			derr = n.post(ctx, m)
		default:
			if n.Sender == nil {
				continue
			}
			derr = n.Sender.Send(ctx, &notify.Message{
				Reference: m.Reference, OrgID: m.OrgID, From: m.From, To: m.Recipients, Subject: m.Subject,
				TLP: m.TLP, Part: m.Part, Parts: m.Parts, Raw: m.Raw,
			})
		}
		if derr != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := n.record(ctx, m, derr, n.now()); err != nil {
			return err
		}
	}
	return nil
}

// post delivers a webhook message with the secret of the organisation's
// stored policy (webhook policies are always stored).
func (n *Notifier) post(ctx context.Context, m *store.Notification) error {
	p, err := n.Store.NotifyPolicy(ctx, m.OrgID)
	if err != nil {
		if focal.ErrorCode(err) == focal.ENOTFOUND {
			return &notify.DeliveryError{Op: "post", Reference: m.Reference, Permanent: true,
				Err: errors.New("the organisation no longer has a webhook policy")}
		}
		return err
	}
	if len(m.Recipients) != 1 {
		return &notify.DeliveryError{Op: "post", Reference: m.Reference, Permanent: true, Err: errors.New("no webhook URL")}
	}
	return n.Webhook.Post(ctx, m.Recipients[0], []byte(p.WebhookSecret), m.Raw)
}

// record stores the outcome of one delivery attempt of m.
func (n *Notifier) record(ctx context.Context, m *store.Notification, derr error, now time.Time) error {
	var de *notify.DeliveryError
	switch {
	case derr == nil:
		n.log().Info("notification sent", "ref", m.Reference, "org", m.OrgID)
		return n.Store.MarkSent(ctx, m.ID, now)
	case errors.As(derr, &de) && de.Delivered:
		// Some recipients have it: sending again would duplicate it for
		// them. The refusals are for the coordinator.
		n.alert(ctx, m, derr.Error(), now)
		return n.Store.MarkSent(ctx, m.ID, now)
	case isPermanent(derr):
		n.alert(ctx, m, derr.Error(), now)
		return n.Store.MarkFailed(ctx, m.ID, derr.Error())
	}
	attempts := m.Attempts + 1
	limit := n.MaxFailures
	if limit <= 0 {
		limit = DefaultMaxFailures
	}
	if attempts == limit {
		n.alert(ctx, m, derr.Error(), now)
	} else {
		n.log().Warn("notification not delivered, will retry", "ref", m.Reference, "org", m.OrgID, "attempts", attempts, "err", derr)
	}
	if err := n.Store.MarkRetry(ctx, m.ID, now.Add(n.retryWait(attempts)), derr.Error()); err != nil {
		return fmt.Errorf("notifier: %w", err)
	}
	return nil
}
