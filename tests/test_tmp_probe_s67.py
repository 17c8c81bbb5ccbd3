from conftest import csrf_token, post_form, PASSWORD
def test_probe(client, auth, org):
    r = auth.login("admin_a"); print(r.status_code, r.headers.get("Location"))
    r = client.get("/users/new/"); html = r.get_data(as_text=True)
    open("/tmp/scratch/new.html","w").write(html)
    r = client.get("/users/"); open("/tmp/scratch/list.html","w").write(r.get_data(as_text=True))
    r = client.get("/departments/"); open("/tmp/scratch/dlist.html","w").write(r.get_data(as_text=True))
    r = client.get("/departments/new/"); open("/tmp/scratch/dnew.html","w").write(r.get_data(as_text=True))
    r = post_form(client, "/users/new/", {"login": "x", "role": "salesperson", "department": org.depts["华南代理"], "email": ""}, token_from="/users/new/")
    print(r.status_code); open("/tmp/scratch/newpost.html","w").write(r.get_data(as_text=True))
