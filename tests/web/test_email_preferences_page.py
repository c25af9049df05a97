"""My work's email preference form: the choice shown, saved through the same service as
`PUT /me/email-preferences`, and a choice that is neither refused with what to do."""

from tests.helpers.web import pages


async def test_the_my_work_form_saves_digest_only_and_shows_it(api):
    sw1 = pages(api, "sw1")
    page = (await sw1.get("/app/")).text
    assert 'id="email-preferences-now" name="digest_only" value="false" checked' in page
    await sw1.token("/app/")  # the form is on My work

    saved = await sw1.post("/app/email-preferences", {"digest_only": "true"})
    assert saved.status_code == 303 and saved.headers["location"] == "/app/?done=email-preferences#email-preferences"
    page = (await sw1.get("/app/?done=email-preferences")).text
    assert 'id="email-preferences-digest" name="digest_only" value="true" checked' in page
    assert "Saved: emails that ask nothing urgent of you now come only in your weekly digest" in page
    assert (await api.as_("sw1").get("/me/email-preferences")).json()["digest_only"] is True

    refused = await sw1.post("/app/email-preferences", {"digest_only": "sometimes"})
    assert refused.status_code == 422 and "Choose how your emails reach you" in refused.text
    assert (await api.as_("sw1").get("/me/email-preferences")).json()["digest_only"] is True
