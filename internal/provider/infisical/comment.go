package infisical

import "context"

// CreateSecretWithComment is CreateSecret that also sets the secret's
// comment (secretComment); an existing secret is an error for which
// IsAlreadyExists holds.
func (c *Client) CreateSecretWithComment(ctx context.Context, env, folder, key, value, comment string) (Secret, error) {
	return c.createSecret(ctx, env, folder, key, value, comment)
}
