//! Opt-outs (docs/api.md, "Stopping invitation messages"): the messages a change would make
//! that their recipients asked not to get.

use super::*;

impl DeliveryService {
    /// The same service honouring opt-outs (docs/api.md, "Stopping invitation messages"): no
    /// invitation message goes to a contact that stopped its sender's or everyone's, and every
    /// invitation email names its unsubscribe link, `{public_url}/unsubscribe/{token}`.
    #[must_use]
    pub fn with_opt_outs(
        mut self,
        opt_outs: Arc<dyn OptOutRepository>,
        key: UnsubscribeKey,
        public_url: PublicUrl,
    ) -> Self {
        self.opt_outs = Some((opt_outs, key, public_url));
        self
    }

    /// The contact an invitation message of `change` goes to (normalized) and its sender.
    pub(super) fn messaged(&self, change: &RecordedChange) -> Option<(String, UserId)> {
        let (details, _) = MessageOccasion::of(change)?;
        let typed = details.invitation.contact();
        let region = self.sms_region.unwrap_or_default();
        let contact = crate::Contact::parse(typed, region)?.ok()?;
        Some((
            crate::accounts::contact_key(&contact).to_owned(),
            details.sender.id,
        ))
    }

    /// The opt-outs of the contacts the invitation messages of `changes` go to, in one look-up.
    pub(super) async fn opt_outs_of(
        &self,
        changes: &[crate::changes::AddressedChange],
    ) -> Result<OptOuts, PortError> {
        let Some((opt_outs, _, _)) = &self.opt_outs else {
            return Ok(OptOuts::default());
        };
        let contacts: Vec<String> = changes
            .iter()
            .filter_map(|delivery| self.messaged(&delivery.recorded))
            .map(|(contact, _)| contact)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if contacts.is_empty() {
            return Ok(OptOuts::default());
        }
        Ok(OptOuts::new(opt_outs.opt_outs_of(&contacts).await?))
    }
}
