-- The provider's id of a text message from the public (Twilio MessageSid, End User Messaging inboundMessageId):
-- providers deliver their webhooks at least once, and the same text delivered twice is one text, with one callback.
ALTER TABLE received_texts ADD COLUMN provider_reference text;
CREATE UNIQUE INDEX received_texts_provider_reference ON received_texts (service_id, provider_reference) WHERE provider_reference IS NOT NULL;
