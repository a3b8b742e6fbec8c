SELECT role FROM user_roles WHERE email = :email
